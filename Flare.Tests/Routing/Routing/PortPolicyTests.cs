using Flare.Routing.Optimization;
using Flare.Routing.Routing;
using static Flare.Tests.Routing.Routing.RoutingPoliciesTests;

namespace Flare.Tests.Routing.Routing;

public sealed class PortPolicyTests
{
    private static readonly DateTime Activated = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    private static RoutingRequest At(DateTime utc) => new("port", 100, 0, utc);

    // strong: q 0.9 at $0.010; weak: q 0.6 at $0.001. α = 1e-4.
    private static Candidate[] Fleet() => [Candidate(1, "strong", 0.9, 0.010), Candidate(2, "weak", 0.6, 0.001)];

    private static IRoutingPolicy Port(double gammaStrong, double budgetStrong, double budgetWeak, ExhaustedBudget onExhausted, double periodMinutes = 60) =>
        RoutingPolicies.Create("port",
            new PlanParameters { BudgetUsd = budgetStrong + budgetWeak, OnExhausted = onExhausted, BudgetPeriodMinutes = periodMinutes },
            new PlanPrices
            {
                Gamma = new Dictionary<string, double> { ["strong@d1"] = gammaStrong },
                BudgetsUsd = new Dictionary<string, double> { ["strong@d1"] = budgetStrong, ["weak@d2"] = budgetWeak },
            },
            Activated);

    [Fact]
    public void Choose_ArgmaxOfAlphaQualityMinusGammaCost()
    {
        var fleet = Fleet();
        // γ = 0: 1e-4·0.9 > 1e-4·0.6. γ = 0.005: strong 9e-5 − 5e-5 = 4e-5 < weak 6e-5 − 0.
        Assert.Equal(0, Port(0, 1, 1, ExhaustedBudget.Drop).Choose(At(Activated), fleet));
        Assert.Equal(1, Port(0.005, 1, 1, ExhaustedBudget.Drop).Choose(At(Activated), fleet));
    }

    [Fact]
    public void Budgets_NeverExceeded_FallbackMovesToTheNextBest_ThenAllSpent()
    {
        // strong can pay 3 requests ($0.030 of $0.035), weak 5 ($0.005 of $0.0055).
        var policy = Port(0, 0.035, 0.0055, ExhaustedBudget.Fallback);
        var fleet = Fleet();

        var picks = Enumerable.Range(0, 10).Select(_ => policy.Choose(At(Activated.AddMinutes(1)), fleet)).ToList();

        Assert.Equal([0, 0, 0, 1, 1, 1, 1, 1, -2, -2], picks);
        var usage = ((IBudgetedPolicy)policy).Usage(Activated.AddMinutes(1));
        Assert.All(usage, u => Assert.True(u.SpentUsd <= u.BudgetUsd, $"{u.Deployment} spent {u.SpentUsd} of {u.BudgetUsd}"));
        Assert.Equal(0.030, usage.Single(u => u.Deployment == "strong@d1").SpentUsd, 12);
    }

    [Fact]
    public void Budgets_Drop_RefusesWhenTheBestIsSpentEvenIfAnotherHasBudget()
    {
        var policy = Port(0, 0.02, 1, ExhaustedBudget.Drop);
        var fleet = Fleet();

        Assert.Equal([0, 0, RoutingDecision.BudgetExhausted], Enumerable.Range(0, 3).Select(_ => policy.Choose(At(Activated), fleet)));
    }

    [Fact]
    public void Budgets_RefillAtTheNextPeriod_AndRetryAfterSaysWhen()
    {
        var policy = Port(0, 0.01, 0, ExhaustedBudget.Drop, periodMinutes: 10);
        var fleet = Fleet();
        var inFirst = Activated.AddMinutes(9);

        Assert.Equal(0, policy.Choose(At(Activated.AddMinutes(1)), fleet));
        Assert.Equal(RoutingDecision.BudgetExhausted, policy.Choose(At(inFirst), fleet));
        Assert.Equal(TimeSpan.FromMinutes(1), ((IBudgetedPolicy)policy).UntilNextPeriod(inFirst));
        Assert.Equal(0, policy.Choose(At(Activated.AddMinutes(10)), fleet));
    }

    [Fact]
    public void Settle_ReplacesTheReservationWithTheRealCost_OrReleasesIt()
    {
        var policy = Port(0, 0.025, 0, ExhaustedBudget.Drop);
        var fleet = Fleet();
        var now = At(Activated);
        var budgeted = (IBudgetedPolicy)policy;

        Assert.Equal(0, policy.Choose(now, fleet));
        policy.Settle(now, fleet[0], null); // failed before the first byte: nothing spent
        Assert.Equal(0, budgeted.Usage(Activated).Single(u => u.Deployment == "strong@d1").SpentUsd, 12);

        Assert.Equal(0, policy.Choose(now, fleet));
        policy.Settle(now, fleet[0], 0.004); // cheaper than estimated
        Assert.Equal(0.004, budgeted.Usage(Activated).Single(u => u.Deployment == "strong@d1").SpentUsd, 12);
        Assert.Equal(0, policy.Choose(now, fleet));
        Assert.Equal(0, policy.Choose(now, fleet)); // 0.004 + 0.010 + 0.010 = 0.024 ≤ 0.025
        Assert.Equal(RoutingDecision.BudgetExhausted, policy.Choose(now, fleet));
    }

    [Fact]
    public void Budgets_ConcurrentDecisions_NeverExceedTheBudget()
    {
        var policy = Port(0, 1.005, 0, ExhaustedBudget.Drop);
        var admitted = 0;
        Parallel.For(0, 20_000, _ =>
        {
            if (policy.Choose(At(Activated), Fleet()) == 0)
            {
                Interlocked.Increment(ref admitted);
            }
        });

        Assert.Equal(100, admitted); // $1.005 / $0.010, not one more
        Assert.True(((IBudgetedPolicy)policy).Usage(Activated).Single(u => u.Deployment == "strong@d1").SpentUsd <= 1.005);
    }

    [Fact]
    public void DeploymentsWithoutABudget_GetNoTraffic()
    {
        var policy = Port(0, 1, 1, ExhaustedBudget.Fallback);
        Candidate[] withNew = [Candidate(7, "newer", 1.0, 0.0), .. Fleet()];

        Assert.Equal(1, policy.Choose(At(Activated), withNew));
    }
}
