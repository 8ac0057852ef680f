"""Transport views: trip search (/transport/search; docs/transport.md "Search").

Anyone may search, anonymous callers included; a token that is sent must be valid.
"""

from flask.views import MethodView

from auth.decorators import optional_login
from routes.transport import blp
from schemas.common import page_of
from schemas.transport.search import OfferSchema, SearchArgs
from services.transport import search


@blp.route("/search")
class TripSearch(MethodView):
    @optional_login
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, page_of(OfferSchema))
    def get(self, args):
        """Offers from a station or city to another on a local date."""
        return search.search_trips(**args)
