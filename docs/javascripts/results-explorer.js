// The results explorer of the Results page.
