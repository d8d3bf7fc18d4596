"""The command line (命令行 `ledger`): `main` holds the group and the assessment commands;
every other module of this package registers its own command group on it."""
