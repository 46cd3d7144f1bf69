"""Dashboard: the named queries over a local lake as one offline HTML page (``page.write_dashboard``)."""
