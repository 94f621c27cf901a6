from shared.serve import serve

serve("fulfillment")
