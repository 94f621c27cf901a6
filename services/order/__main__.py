from shared.serve import serve

serve("order")
