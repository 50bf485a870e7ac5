"""Built-in fakes of JazzCash and Easypaisa: their checkout pages, phone approval and APIs,
verifying and signing exactly as the real wallets do, so the whole flow runs with no merchant
account (development, demos, tests). Active only for a wallet whose mode is "fake"."""
