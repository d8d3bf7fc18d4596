"""Member-level mechanisms (党员层面): people, member points, talks and visits, 1+N links,
projects, innovation, selection, mentoring, meetings and dues."""
