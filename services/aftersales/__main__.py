from shared.serve import serve

serve("aftersales")
