"""Township-level practices (Gansu's member work station 委员工作站, Lianyungang's consultation homes 协商民主之家, …)."""
