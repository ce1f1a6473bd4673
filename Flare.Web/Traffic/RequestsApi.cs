using Flare.Data.Registry;
using Flare.Web.Api;

namespace Flare.Web.Traffic;

/// <summary><c>/api/requests</c>: logged <c>/v1</c> requests, each with its routing decision explained.</summary>
public static class RequestsApi
{
    public static void MapRequestsApi(this RouteGroupBuilder api)
    {
        var requests = api.MapGroup("/requests").WithTags("Requests");
        requests.MapGet("/{requestId}", async (string requestId, RequestInsights insights, CancellationToken ct) =>
            await insights.FindAsync(requestId, ct) is { } detail
                ? Results.Ok(detail)
                : RegistryApi.ToHttp(Outcome<bool>.NotFound(
                    $"Request '{requestId}' is not in the request log: the id is the x-flare-request-id header of a /v1 answer; the log keeps the newest rows up to its retention limit and is written within a second.")))
            .WithDescription("One logged /v1 request: where it went, its latency, tokens and cost, and the routing decision explained — every candidate's q̂, L̂_out, ℓ̂, ĉ, prices and score, and why the winner won.");
    }
}
