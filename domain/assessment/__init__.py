"""Branch assessment (支部考核): organization, monthly and quarterly assessment, the annual
evaluation, appeals, the rulebook and its arithmetic, approved results."""
