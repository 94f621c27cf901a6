from shared.serve import serve

serve("order", "services.order.app:create_order_app")
