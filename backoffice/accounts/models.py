# Staff are Django's users; what makes them staff of a council is
# tenancy.Membership, and what they may do is their roles (accounts.roles).
