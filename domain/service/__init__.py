"""The service layer (服务层): the one application service (`Ledger`), the unit of work,
permissions and the command handlers' registry. Adapters call it; aggregates never do."""
