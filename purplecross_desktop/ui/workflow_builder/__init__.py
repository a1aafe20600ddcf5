"""The workflow builder: a canvas, an outline and a properties panel over one workflow document."""
