from shared.serve import serve

serve("pickup")
