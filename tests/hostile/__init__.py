"""The hostile and bad input corpus (issue 10): named cases per channel, see corpus.py."""
