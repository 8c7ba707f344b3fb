"""The league: store, matchmaking, ratings, runners and the league manager."""
