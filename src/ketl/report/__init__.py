"""``ketl report``: the HTML page (``build``) and its charts (``charts``)."""
