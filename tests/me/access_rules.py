ACCESS = {"me.export": "login", "me.delete_account": "login"}
