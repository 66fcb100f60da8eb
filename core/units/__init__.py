"""Handling units (承办单位): the party committee's and government's departments a node works with."""
