"""Democratic appraisal (民主评议): the year's appraisal of government departments or of key topics' implementation."""
