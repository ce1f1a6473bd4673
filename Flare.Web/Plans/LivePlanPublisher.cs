using Flare.Data.Plans;
using Flare.Routing.Routing;
using Flare.Web.Gateway;

namespace Flare.Web.Plans;

/// <summary>
/// Keeps the data plane's <see cref="PlanBook"/>: at start the plan of the last activation (none: the built-in
/// least-outstanding default), then again after every plan change, off the request path, published in one write.
/// A plan's policy object is built once per activation and kept across republishing, so PORT's budget counters survive
/// unrelated changes and start afresh only when the plan is activated again.
/// </summary>
public sealed partial class LivePlanPublisher(
    PlanStore store,
    PlanChangeSignal changes,
    RoutingState routing,
    ILogger<LivePlanPublisher> log,
    ISharedLedger? ledger = null) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<(long Plan, long Activation), ActivePlan> _built = [];

    /// <summary>The stored plan behind the published live plan (null while routing follows the built-in default), as read
    /// for the last publication, so that readers such as the explorer need not query again.</summary>
    public PlanView? LiveView { get; private set; }
    private bool _subscribed;

    /// <summary>Loads the plans and starts following changes.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (!_subscribed)
        {
            changes.Changed += OnChanged;
            _subscribed = true;
        }

        await RefreshAsync(ct);
    }

    /// <summary>Reads the live plan and the newest ready plan of each policy and publishes them.</summary>
    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var live = await store.GetLiveAsync(ct);
            var ready = await store.NewestReadyByPolicyAsync(ct);
            var built = new Dictionary<(long, long), ActivePlan>();
            var livePlan = live is { Plan: { } plan, Activation: { } activation }
                ? Build(plan, activation.Id, activation.ActivatedUtc, built) ?? PlanBook.Default.Live
                : PlanBook.Default.Live;
            var byPolicy = new List<ActivePlan>();
            foreach (var policy in RoutingPolicies.PlanPolicies)
            {
                var chosen = !livePlan.IsBuiltin && livePlan.Policy == policy ? livePlan
                    : ready.FirstOrDefault(p => p.Policy == policy) is { } newest ? Build(newest, 0, newest.CreatedUtc, built)
                    : null;
                chosen ??= PlanBook.Default.ForPolicy(policy);
                if (chosen is not null)
                {
                    byPolicy.Add(chosen);
                }
            }

            _built = built;
            LiveView = livePlan.IsBuiltin ? null : live.Plan;
            routing.PublishPlans(new PlanBook(livePlan, byPolicy));
            LogPublished(livePlan.Header, livePlan.Policy);
        }
        finally
        {
            _gate.Release();
        }
    }

    private ActivePlan? Build(PlanView plan, long activationId, DateTime since, Dictionary<(long, long), ActivePlan> built)
    {
        var key = (plan.Id, activationId);
        if (built.TryGetValue(key, out var done) || _built.TryGetValue(key, out done))
        {
            built[key] = done;
            return done;
        }

        try
        {
            // Hosts sharing a database pool PORT's spending per plan and activation (the same key on every host).
            var router = RoutingPolicies.Create(plan.Policy, plan.Parameters, plan.Prices, since, ledger, $"plan{plan.Id}:activation{activationId}");
            return built[key] = new ActivePlan(plan.Id, router, activationId);
        }
        catch (ArgumentException ex)
        {
            LogUnusable(ex, plan.Id);
            return null;
        }
    }

    private void OnChanged() => _ = RefreshSafelyAsync();

    private async Task RefreshSafelyAsync()
    {
        try
        {
            await RefreshAsync();
        }
        catch (Exception ex)
        {
            LogRefreshFailed(ex);
        }
    }

    public void Dispose()
    {
        changes.Changed -= OnChanged;
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Routing plans published; the live plan is {Plan} ({Policy})")]
    private partial void LogPublished(string plan, string policy);

    [LoggerMessage(Level = LogLevel.Error, Message = "Plan {PlanId} cannot be turned into a policy; the default routes in its place")]
    private partial void LogUnusable(Exception ex, long planId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not republish the routing plans; the previous ones stay in use")]
    private partial void LogRefreshFailed(Exception ex);
}
