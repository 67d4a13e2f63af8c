"""The Vipps side: build, sign and send one card callback, and judge the answer as the app would."""
