using Flare.Data.Plans;
using Flare.Routing.Routing;
using Flare.Web.Api;

namespace Flare.Web.Plans;

/// <summary>Routing plans under <c>/api/plans</c>: the same service and rules as the Plans page.</summary>
public static class PlansApi
{
    /// <summary>Header that names who made a change over the API (recorded in the plan history); default <c>api</c>.</summary>
    public const string OperatorHeader = "X-Flare-Operator";

    /// <summary>Body of <c>POST /api/plans</c>.</summary>
    /// <param name="Policy">flare, routerwise, port, best-quality, cheapest, threshold, fixed, random, round-robin or least-outstanding.</param>
    /// <param name="Parameters">The policy's parameters (see <see cref="PlanParameters"/>); unset fields take their defaults.</param>
    /// <param name="Reason">Why, kept in the plan history.</param>
    public sealed record CreatePlanInput(string? Policy, PlanParameters? Parameters, string? Reason);

    /// <summary>Body of <c>POST /api/plans/{id}/activate</c> and <c>POST /api/plans/rollback</c>.</summary>
    public sealed record ReasonInput(string? Reason);

    /// <summary>What routes the router names right now.</summary>
    /// <param name="Plan">The live plan; null while none was ever activated.</param>
    /// <param name="Activation">The activation that made it live.</param>
    /// <param name="Version">The version requests carry in <c>x-flare-plan</c> (0: the built-in default).</param>
    /// <param name="Policy">The policy requests carry in <c>x-flare-policy</c>.</param>
    /// <param name="Budgets">PORT: each deployment's budget and spending in the current period.</param>
    /// <param name="Description">What the policy does.</param>
    public sealed record LivePlanResponse(PlanView? Plan, PlanActivationView? Activation, long Version, string Policy, IReadOnlyList<BudgetUsage> Budgets, string Description);

    /// <summary>A plan's prediction beside what live traffic routed by it showed.</summary>
    public sealed record ObservedResponse(PlanPrediction? Predicted, Traffic.PlanObservation Observed);

    public static void MapPlansApi(this RouteGroupBuilder api)
    {
        var plans = api.MapGroup("/plans").WithTags("Routing plans");
        plans.MapGet("/", (PlanStore s, CancellationToken ct) => s.ListAsync(ct))
            .WithDescription("Every plan version, newest first, with who asked for it, when, why, its status, prices and predicted metrics.");
        plans.MapGet("/live", async (PlanStore s, PlanService p, CancellationToken ct) =>
        {
            var live = await s.GetLiveAsync(ct);
            var routing = p.Live();
            return TypedResults.Ok(new LivePlanResponse(live.Plan, live.Activation, routing.Version, routing.Policy, routing.Budgets, RoutingPolicies.Describe(routing.Policy)));
        }).WithDescription("The live plan. With none activated, the built-in default (least outstanding) routes.");
        plans.MapGet("/activations", (PlanStore s, CancellationToken ct) => s.ListActivationsAsync(ct: ct))
            .WithDescription("The audit trail of live plans, newest first.");
        plans.MapGet("/{id:long}", async (long id, PlanStore s, CancellationToken ct) =>
            await s.GetAsync(id, ct) is { } plan ? Results.Ok(plan) : RegistryApi.ToHttp(Data.Registry.Outcome<bool>.NotFound($"Plan {id} does not exist.")));
        plans.MapGet("/{id:long}/observed", async (long id, DateTime? since, PlanStore s, Traffic.RequestInsights insights, CancellationToken ct) =>
        {
            if (await s.GetAsync(id, ct) is not { } plan)
            {
                return RegistryApi.ToHttp(Data.Registry.Outcome<bool>.NotFound($"Plan {id} does not exist."));
            }

            var from = since?.ToUniversalTime() ?? plan.LastActivatedUtc ?? plan.CreatedUtc;
            return Results.Ok(new ObservedResponse(plan.Predicted, await insights.ObserveAsync(id, from, ct)));
        }).WithDescription("Predicted vs observed: the plan's predicted metrics beside live traffic routed by it since ?since= (default: since it last became live) — latency, cost per 1k requests, traffic split, and quality from POST /v1/feedback scores.");
        plans.MapPost("/", async (CreatePlanInput input, HttpRequest request, PlanService p, CancellationToken ct) =>
        {
            var plan = await p.CreateAsync(input.Policy ?? "", input.Parameters, Operator(request), input.Reason ?? "", ct);
            return plan.IsOk ? TypedResults.Accepted($"/api/plans/{plan.Value!.Id}", plan.Value) : RegistryApi.ToHttp(plan);
        }).WithDescription("Stores a plan and computes it in the background: 202 with the plan (status Computing); poll GET /api/plans/{id} until Ready or Failed.");
        // The body is read by hand: a declared JSON body makes a POST without one match no endpoint (a 404), where the
        // caller should hear that the reason is missing (a 400 naming the field).
        plans.MapPost("/{id:long}/activate", async (long id, HttpRequest request, PlanService p, CancellationToken ct) =>
            RegistryApi.ToHttp(await p.ActivateAsync(id, Operator(request), await ReasonAsync(request, ct), ct)))
            .WithDescription("Body {\"reason\": \"…\"} (required). Makes a ready plan live; returns once /v1 routes by it.");
        plans.MapPost("/rollback", async (HttpRequest request, PlanService p, CancellationToken ct) =>
            RegistryApi.ToHttp(await p.RollbackAsync(Operator(request), await ReasonAsync(request, ct), ct)))
            .WithDescription("Body {\"reason\": \"…\"} (required). Makes the plan that was live before the current one live again (a new activation).");
    }

    /// <summary>The <c>reason</c> of a JSON body; empty without one (the store then asks for it).</summary>
    private static async Task<string> ReasonAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
        {
            return "";
        }

        try
        {
            return (await request.ReadFromJsonAsync<ReasonInput>(ct))?.Reason ?? "";
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new BadHttpRequestException($"The body is not a JSON object with a 'reason': {ex.Message}", ex);
        }
    }

    private static string Operator(HttpRequest request) =>
        request.Headers[OperatorHeader].FirstOrDefault() is { Length: > 0 } who && !string.IsNullOrWhiteSpace(who) ? who.Trim() : PlanService.ApiOperator;
}
