"""Everything that speaks HTTP to CAMS: signing, the client, models and the error taxonomy."""
