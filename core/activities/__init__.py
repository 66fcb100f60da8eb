"""Consultation activities (协商活动): invitations, attendance, materials, research, opinions, online windows, minutes."""
