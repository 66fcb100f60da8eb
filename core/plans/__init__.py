"""Annual consultation plans (年度协商计划): items, approval steps, publication, amendments; consultation forms."""
