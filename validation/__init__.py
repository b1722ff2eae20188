"""Theory-versus-exact validations, run by `thermopot validate` (installed as thermopot.validation)."""
