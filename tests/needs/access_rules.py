ACCESS = {"needs.erase_contact": "public", "needs.withdraw_and_erase": "public"}
