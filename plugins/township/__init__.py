"""Township-level practices (Gansu's member work station 委员工作站, …)."""
