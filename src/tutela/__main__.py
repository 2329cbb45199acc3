from tutela.cli.main import run

run()
