"""Auto-renew: a saved card switched on for a SIM (``cards``), the charges made before it expires
(``charges``) and the notices a customer gets when one fails (``notices``)."""
