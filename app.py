from postmortems import create_app

app = create_app()
