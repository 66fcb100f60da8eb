"""City-level practices (Lianyungang's consultation homes 协商民主之家, …)."""
