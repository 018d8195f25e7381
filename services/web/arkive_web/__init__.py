"""The arkive web dashboard: a client of the gateway (through the SDK's AsyncClient) that renders
HTML on the server. It keeps no state of its own besides the signed-in user's token cookie."""
