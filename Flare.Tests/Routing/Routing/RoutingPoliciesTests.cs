using Flare.Routing.Profiles;
using Flare.Routing.Registry;
using Flare.Routing.Routing;

namespace Flare.Tests.Routing.Routing;

public sealed class RoutingPoliciesTests
{
    private static readonly RoutingRequest Request = new("flare", 100, 0, new DateTime(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc));

    internal static DeploymentTarget Target(int id, string model, int maxConcurrency = 8) =>
        new(id, $"{model}@d{id}", model, model, DeploymentKind.Api, $"http://127.0.0.1:9/{id}", null, maxConcurrency, 1, 1, 0);

    internal static Candidate Candidate(int id, string model, double quality, double cost, double latency = 1000, double ttft = 100, int inFlight = 0, int maxConcurrency = 8)
    {
        var state = new DeploymentState();
        for (var i = 0; i < inFlight; i++)
        {
            state.Enter();
        }

        return new Candidate(Target(id, model, maxConcurrency), state, new CandidateEstimate(quality, 100, cost, latency, ttft, EstimateSource.History));
    }

    private static IRoutingPolicy Create(string policy, PlanParameters? p = null, PlanPrices? prices = null) =>
        RoutingPolicies.Create(policy, p ?? new(), prices ?? PlanPrices.Empty, Request.UtcNow);

    // strong: q 0.9, $0.010, 2,000 ms; mid: q 0.8, $0.004, 1,000 ms; weak: q 0.6, $0.001, 400 ms.
    private static Candidate[] Fleet() =>
    [
        Candidate(1, "strong", 0.9, 0.010, latency: 2000, ttft: 300),
        Candidate(2, "mid", 0.8, 0.004, latency: 1000, ttft: 100),
        Candidate(3, "weak", 0.6, 0.001, latency: 400, ttft: 200),
    ];

    [Fact]
    public void Flare_QualityOnly_PicksTheBest_CostWeightedPicksTheCheap()
    {
        var scales = new PlanPrices { CostScaleUsd = 0.005, LatencyScaleMs = 1000 };

        Assert.Equal(0, Create("flare", new() { QualityWeight = 1 }, scales).Choose(Request, Fleet()));
        // w_c = 0.1: strong 0.9 − 0.1·2.0 = 0.70, mid 0.8 − 0.1·0.8 = 0.72, weak 0.6 − 0.1·0.2 = 0.58.
        Assert.Equal(1, Create("flare", new() { QualityWeight = 1, CostWeight = 0.1 }, scales).Choose(Request, Fleet()));
        // w_c = 1: strong −1.1, mid 0.0, weak 0.4.
        Assert.Equal(2, Create("flare", new() { QualityWeight = 1, CostWeight = 1 }, scales).Choose(Request, Fleet()));
    }

    [Fact]
    public void Flare_LatencyMetric_TtftWeighsTimeToFirstTokenInsteadOfE2e()
    {
        var scales = new PlanPrices { CostScaleUsd = 0.005, LatencyScaleMs = 1000 };
        var parameters = new PlanParameters { QualityWeight = 0, LatencyWeight = 1 };

        // e2e: weak (400 ms) is fastest; TTFT: mid (100 ms) is.
        Assert.Equal(2, Create("flare", parameters, scales).Choose(Request, Fleet()));
        Assert.Equal(1, Create("flare", parameters with { LatencyMetric = LatencyMetric.Ttft }, scales).Choose(Request, Fleet()));
    }

    [Fact]
    public void RouterWise_CapacityPriceOnTheBest_MovesTrafficToTheNext()
    {
        Assert.Equal(0, Create("routerwise", prices: new PlanPrices { Alpha = new Dictionary<string, double> { ["strong@d1"] = 0.05 } }).Choose(Request, Fleet()));
        // α_strong = 0.15: 0.9 − 0.15 = 0.75 < 0.8 − 0.
        Assert.Equal(1, Create("routerwise", prices: new PlanPrices { Alpha = new Dictionary<string, double> { ["strong@d1"] = 0.15 } }).Choose(Request, Fleet()));
    }

    [Fact]
    public void BestQualityAndCheapest_PickByTheEstimates_TiesToTheOtherObjective()
    {
        Assert.Equal(0, Create("best-quality").Choose(Request, Fleet()));
        Assert.Equal(2, Create("cheapest").Choose(Request, Fleet()));

        Candidate[] tied = [Candidate(1, "a", 0.7, 0.005), Candidate(2, "b", 0.7, 0.002), Candidate(3, "c", 0.5, 0.002)];
        Assert.Equal(1, Create("best-quality").Choose(Request, tied));
        Assert.Equal(1, Create("cheapest").Choose(Request, tied));
    }

    [Fact]
    public void EveryPolicy_SkipsDeploymentsAtTheirConcurrencyLimit()
    {
        Candidate[] fleet = [Candidate(1, "strong", 0.9, 0.010, inFlight: 2, maxConcurrency: 2), Candidate(2, "weak", 0.6, 0.001)];
        var scales = new PlanPrices
        {
            CostScaleUsd = 0.005, LatencyScaleMs = 1000, StrongModel = "strong", WeakModel = "weak",
            Gamma = new Dictionary<string, double>(), BudgetsUsd = new Dictionary<string, double> { ["strong@d1"] = 1, ["weak@d2"] = 1 },
        };
        foreach (var policy in RoutingPolicies.PlanPolicies.Where(p => p != "fixed"))
        {
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(1, Create(policy, new PlanParameters { BudgetUsd = 1, Threshold = -1 }, scales).Choose(Request, fleet));
            }
        }

        Assert.Equal(RoutingDecision.NoCandidate, Create("fixed", new() { Model = "strong" }).Choose(Request, fleet));
    }

    [Fact]
    public void Random_SameSeed_SameChoices_OtherSeed_OtherChoices_AndUniform()
    {
        static int[] Run(int seed)
        {
            var policy = Create("random", new() { Seed = seed });
            var fleet = Fleet();
            return Enumerable.Range(0, 3000).Select(_ => policy.Choose(Request, fleet)).ToArray();
        }

        var a = Run(7);
        Assert.Equal(a, Run(7));
        Assert.NotEqual(a, Run(8));
        foreach (var count in a.CountBy(i => i).Select(kv => kv.Value))
        {
            Assert.InRange(count, 900, 1100); // 1,000 expected each; ±100 is more than 5 standard deviations
        }
    }

    [Fact]
    public void RoundRobin_TakesEachDeploymentInTurn()
    {
        var policy = Create("round-robin");
        var fleet = Fleet();

        Assert.Equal([0, 1, 2, 0, 1, 2, 0], Enumerable.Range(0, 7).Select(_ => policy.Choose(Request, fleet)));
    }

    [Fact]
    public void Fixed_AlwaysTheNamedModel_LeastOutstandingAmongItsDeployments()
    {
        Candidate[] fleet = [Candidate(1, "a", 0.9, 0.01), Candidate(2, "b", 0.5, 0.001, inFlight: 3), Candidate(3, "b", 0.5, 0.001, inFlight: 1)];

        Assert.Equal(2, Create("fixed", new() { Model = "b" }).Choose(Request, fleet));
        Assert.Equal(RoutingDecision.NoCandidate, Create("fixed", new() { Model = "c" }).Choose(Request, fleet));
    }

    [Fact]
    public void Threshold_StrongOnlyWhenItsAdvantageIsAboveT()
    {
        var prices = new PlanPrices { StrongModel = "strong", WeakModel = "weak" };
        Candidate[] Prompt(double qStrong, double qWeak) => [Candidate(1, "strong", qStrong, 0.01), Candidate(2, "mid", 0.99, 0.004), Candidate(3, "weak", qWeak, 0.001)];

        var policy = Create("threshold", new() { Threshold = 0.2 }, prices);

        Assert.Equal(0, policy.Choose(Request, Prompt(0.9, 0.6)));  // advantage 0.3 > 0.2
        Assert.Equal(2, policy.Choose(Request, Prompt(0.9, 0.75))); // 0.15 ≤ 0.2
        // The strong model full: the weak one whatever the advantage.
        Candidate[] strongFull = [Candidate(1, "strong", 0.9, 0.01, inFlight: 8), Candidate(3, "weak", 0.1, 0.001)];
        Assert.Equal(1, policy.Choose(Request, strongFull));
    }

    [Fact]
    public void Policies_AreAllocationFree()
    {
        var fleet = Fleet();
        var prices = new PlanPrices
        {
            CostScaleUsd = 0.005, LatencyScaleMs = 1000, StrongModel = "strong", WeakModel = "weak",
            Alpha = new Dictionary<string, double> { ["mid@d2"] = 0.01 },
            Gamma = new Dictionary<string, double> { ["strong@d1"] = 0.01 },
            BudgetsUsd = fleet.ToDictionary(c => c.Target.Name, _ => 1e9),
        };
        foreach (var name in RoutingPolicies.PlanPolicies)
        {
            var policy = Create(name, new PlanParameters { Model = "mid", BudgetUsd = 1 }, prices);
            policy.Choose(Request, fleet); // JIT
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                policy.Choose(Request, fleet);
            }

            Assert.True(GC.GetAllocatedBytesForCurrentThread() == before, $"{name} allocated on the request path");
        }
    }

    [Fact]
    public void Builtin_PoliciesThatNeedAPlanHaveNone()
    {
        foreach (var name in new[] { "flare", "routerwise", "port", "fixed", "threshold" })
        {
            Assert.Null(RoutingPolicies.Builtin(name));
        }

        foreach (var name in new[] { "best-quality", "cheapest", "random", "round-robin", "least-outstanding" })
        {
            Assert.Equal(name, RoutingPolicies.Builtin(name)!.Name);
        }
    }
}
