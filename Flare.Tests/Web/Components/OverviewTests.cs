using Bunit;
using Flare.Routing.Profiles;
using Flare.Routing.Registry;
using Flare.Routing.Routing;
using Flare.Tests.Support;
using Flare.Web.Components.Overview;
using Flare.Web.Components.Pages;
using Flare.Web.Gateway;
using Flare.Web.Overview;
using Flare.Web.Traffic;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Components;

/// <summary>The live overview on Home, fed through Flare's meter as the gateway feeds it.</summary>
public sealed class OverviewTests : ComponentTestBase
{
    private readonly RoutingState _routing = new([new LeastOutstandingPolicy()]);
    private readonly StaticProfileSource _profiles = new();
    private FlareMetrics _metrics = null!;

    protected override void AddServices(IServiceCollection services)
    {
        _metrics = new FlareMetrics(_routing);
        services.AddSingleton(_routing);
        services.AddSingleton(_metrics);
        services.AddSingleton(new TrafficMonitor(_metrics, TimeProvider.System));
        services.AddSingleton<IProfileSource>(_profiles);
    }

    private static DeploymentTarget Target(int id, string name) =>
        new(id, name, "m", "m", DeploymentKind.Emulated, "http://x/v1", null, 64, 0.2, 0.2, 1.79);

    private static DeploymentProfile Profile(int id, DateTime fittedUtc, FitVerdict ttft = FitVerdict.Good, double? ttftMape = 0.05)
    {
        var good = new CurveFitQuality(40, 0.99, 0.04, 0.05, FitVerdict.Good, null);
        return new DeploymentProfile(id, 1, new ProfileFit(new LatencyModel(30, 0.05, 0, 1, 10, 0.1, 0),
            good with { Verdict = ttft, CrossValidatedMape = ttftMape }, good, good, 40, 0, 16), fittedUtc);
    }

    private void Request(string deployment, int status = 200)
    {
        _metrics.Requests.Add(1, new("deployment", deployment), new("policy", "least-outstanding"), new("status", status));
        _metrics.E2e.Record(0.8);
        _metrics.Ttft.Record(0.1);
        _metrics.Cost.Add(0.0001);
    }

    [Fact]
    public void Home_ShowsLoadSharesErrorsAndProfilesNeedingAttention_AndUpdatesWithoutReload()
    {
        var now = DateTime.UtcNow;
        _routing.Publish(new RoutingSnapshot(1, [Target(1, "a"), Target(2, "b"), Target(3, "c"), Target(4, "d")]));
        _profiles.Publish(new Dictionary<int, DeploymentProfile>
        {
            [1] = Profile(1, now.AddHours(-1)),
            [2] = Profile(2, now.AddHours(-2), FitVerdict.Poor, 0.25),
            [4] = Profile(4, now.AddDays(-10)),
        });
        Request("a");
        Request("a");
        Request("a");
        Request("b");
        Request("b", status: 503);
        _metrics.Retries.Add(2);

        var cut = Ctx.Render<Home>();

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=profile-attention]").Count));
        var shares = cut.FindAll("[data-testid=share-row]").ToDictionary(r => r.GetAttribute("data-deployment")!, r => r.QuerySelector("[data-testid=share-value]")!.TextContent);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "60%", ["b"] = "40%" }, shares);
        Assert.EndsWith("· 1", cut.Find("[data-testid=overview-errors]").TextContent);
        Assert.Equal("800 · 800", cut.Find("[data-testid=overview-e2e]").TextContent);
        var attention = cut.FindAll("[data-testid=profile-attention]").Select(r => (r.QuerySelector("td")!.TextContent, r.GetAttribute("data-issue"))).ToList();
        Assert.Equal([("b", "PoorFit"), ("c", "Missing"), ("d", "Stale")], attention);
        Assert.Contains("TTFT poor (cross-validated MAPE 25%)", cut.Find("[data-testid=overview-profiles]").TextContent);
        Assert.Contains("fitted 10 days ago", cut.Find("[data-testid=overview-profiles]").TextContent);

        // Traffic moves on: the page follows within a second or two, without being rendered again by the test.
        for (var i = 0; i < 5; i++)
        {
            Request("c");
        }

        _metrics.Retries.Add(3);
        cut.WaitForAssertion(() =>
        {
            Assert.Equal("50%", cut.Find("[data-testid=share-row][data-deployment=c] [data-testid=share-value]").TextContent);
            Assert.StartsWith("3 ·", cut.Find("[data-testid=overview-retries]").TextContent);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void LiveOverview_EveryProfileFreshAndGood_SaysSo_AndNoTrafficSaysHowToSendSome()
    {
        _routing.Publish(new RoutingSnapshot(1, [Target(1, "a")]));
        _profiles.Publish(new Dictionary<int, DeploymentProfile> { [1] = Profile(1, DateTime.UtcNow) });

        var cut = Ctx.Render<LiveOverview>();

        Assert.Contains("All 1 enabled deployments have a well-fitted profile", cut.Find("[data-testid=profiles-ok]").TextContent);
        Assert.Contains("No requests in the last minute", cut.Find("[data-testid=overview-share]").TextContent);
        Assert.Equal("0.0", cut.Find("[data-testid=overview-rps]").TextContent);
    }

    [Fact]
    public void ProfileHealth_StaleAndPoor_ListedTwice_WithTheNotValidatedNote()
    {
        var now = new DateTime(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);
        var old = Profile(1, now.AddDays(-8), FitVerdict.NotValidated, null) is var p
            ? p with { Fit = p.Fit with { Ttft = p.Fit.Ttft with { Note = "3 observations" } } }
            : null!;

        var issues = ProfileHealth.Assess([Target(1, "a")], new ProfileSnapshot(1, new Dictionary<int, DeploymentProfile> { [1] = old }), now);

        Assert.Equal([ProfileIssue.Stale, ProfileIssue.PoorFit], issues.Select(i => i.Issue));
        Assert.Equal("fitted 8 days ago (version 1)", issues[0].Detail);
        Assert.Equal("TTFT not validated (3 observations)", issues[1].Detail);
    }
}
