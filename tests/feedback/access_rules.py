ACCESS = {"feedback.by_submitter": "public", "feedback.by_follower": "login"}
