using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;
using Flare.Tests.Support;
using Flare.Web.History;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Gateway;

/// <summary>/v1 routed by routing plans, over real HTTP to emulated deployments.</summary>
[Collection(nameof(HostCollection))]
public sealed class PlanRoutingTests
{
    private const string Prompt = "Say hello to the fleet.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Chat(string model, int maxTokens = 8) => new
    {
        model,
        max_tokens = maxTokens,
        ignore_eos = true,
        messages = new[] { new { role = "system", content = "Be brief." }, new { role = "user", content = Prompt } },
    };

    /// <summary>A routing history in which "strong" scores 0.9 and "weak" 0.5 on prompts like the test's.</summary>
    internal sealed class TestHistory : IHistoryEstimatorSource
    {
        public HistoryEstimator Current { get; } = HistoryEstimator.Build(
            new[] { "Say hello to the fleet.", "Say hello to the team.", "Say goodbye to the fleet." }.Select(p =>
                new HistoryEntry(p, [new ModelOutcome("strong", 0.9, 8), new ModelOutcome("weak", 0.5, 8)])),
            new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(HashedNgramEmbedderOptions.Default.Dimensions));

        public bool IsReady => true;
    }

    private static Task<GatewayFixture> StartWithHistoryAsync() =>
        GatewayFixture.StartAsync(s => s.AddSingleton<IHistoryEstimatorSource>(new TestHistory()));

    /// <summary>strong ($10 per million tokens) and weak ($0.10), one emulated deployment each.</summary>
    private static async Task AddFleetAsync(GatewayFixture f)
    {
        await f.AddDeploymentAsync("strong", "strong@emu", pricePerMTokUsd: 10);
        await f.AddDeploymentAsync("weak", "weak@emu", pricePerMTokUsd: 0.1);
    }

    internal static async Task<long> ReadyPlanAsync(GatewayFixture f, string policy, object? parameters = null)
    {
        var created = await f.Client.PostAsJsonAsync("/api/plans", new { policy, parameters, reason = $"test {policy}" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var plan = JsonDocument.Parse(await f.Client.GetStringAsync($"/api/plans/{id}", Ct)).RootElement;
            var status = plan.GetProperty("status").GetString();
            if (status == "Ready")
            {
                break;
            }

            Assert.True(status == "Computing", $"Plan {id} is {status}: {plan.GetProperty("failure")}");
            Assert.True(DateTime.UtcNow < deadline, $"Plan {id} was still computing after 30 s.");
            await Task.Delay(50, Ct);
        }

        // The data plane republishes its plans off the request path once a plan is stored ready; until then a request
        // naming the policy is still routed by the plan before it. (A live plan of the same policy keeps routing it.)
        var routing = f.Flare.Services.GetRequiredService<Flare.Web.Gateway.RoutingState>();
        while (routing.Plans.ForPolicy(policy)?.Version != id && routing.Plans.Live.Policy != policy)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Plan {id} was ready but not yet routing {policy} requests after 30 s.");
            await Task.Delay(10, Ct);
        }

        return id;
    }

    internal static async Task ActivateAsync(GatewayFixture f, long id)
    {
        var response = await f.Client.PostAsJsonAsync($"/api/plans/{id}/activate", new { reason = "test" }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : null;

    [Fact]
    public async Task RouterName_NoPlan_BuiltInDefault_DisclosedInHeaders()
    {
        await using var f = await GatewayFixture.StartAsync();
        await AddFleetAsync(f);

        var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("flare"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("least-outstanding", Header(response, "x-flare-policy"));
        Assert.Equal("default", Header(response, "x-flare-plan"));
        Assert.Null(Header(response, "x-flare-estimate"));
    }

    [Fact]
    public async Task PolicyName_BestQuality_RoutesByTheHistoryEstimate_AndDisclosesIt()
    {
        await using var f = await StartWithHistoryAsync();
        await AddFleetAsync(f);

        for (var i = 0; i < 3; i++)
        {
            var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("best-quality"), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("strong@emu", Header(response, "x-flare-deployment"));
            Assert.Equal("best-quality", Header(response, "x-flare-policy"));
            Assert.Equal("history", Header(response, "x-flare-estimate"));
        }

        var cheapest = await f.Client.PostAsJsonAsync("/v1/completions", new { model = "cheapest", prompt = Prompt, max_tokens = 4, ignore_eos = true }, Ct);
        Assert.Equal("weak@emu", Header(cheapest, "x-flare-deployment"));
        var metrics = await f.Client.GetStringAsync("/metrics", Ct);
        Assert.Contains("flare_requests_total{deployment=\"strong@emu\",policy=\"best-quality\",status=\"200\"} 3", metrics);
        Assert.Contains("flare_requests_total{deployment=\"weak@emu\",policy=\"cheapest\",status=\"200\"} 1", metrics);
    }

    [Fact]
    public async Task NoHistory_NeutralDefaultsDisclosed()
    {
        await using var f = await GatewayFixture.StartAsync();
        await AddFleetAsync(f);

        var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("cheapest"), Ct);

        Assert.Equal("weak@emu", Header(response, "x-flare-deployment"));
        Assert.Equal("default", Header(response, "x-flare-estimate"));
    }

    [Fact]
    public async Task PolicyThatNeedsAPlan_WithoutOne_503InOpenAIShape_ModelsListsEveryRouter()
    {
        await using var f = await GatewayFixture.StartAsync();
        await AddFleetAsync(f);

        var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("port"), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error");
        Assert.Equal("plan_not_ready", error.GetProperty("code").GetString());
        Assert.Contains("/api/plans", error.GetProperty("message").GetString());

        var models = JsonDocument.Parse(await f.Client.GetStringAsync("/v1/models", Ct)).RootElement.GetProperty("data")
            .EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal(["strong", "weak", "flare", "routerwise", "port", "best-quality", "cheapest", "threshold", "fixed", "random", "round-robin", "least-outstanding"], models);
    }

    [Fact]
    public async Task RoutedRequests_Remembered_ForFeedback_PlainModelRequestsNot()
    {
        await using var f = await GatewayFixture.StartAsync();
        await AddFleetAsync(f);
        var memory = f.Flare.Services.GetRequiredService<RecentPrompts>();

        var routed = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("cheapest"), Ct);
        var plain = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("strong"), Ct);

        Assert.True(memory.TryGet(Header(routed, "x-flare-request-id")!, out var remembered));
        Assert.Equal("Be brief.\n" + Prompt, remembered.Prompt);
        Assert.Equal("weak", remembered.Model);
        Assert.Equal(8, remembered.OutputTokens);
        Assert.True(remembered.CostUsd > 0);
        Assert.False(memory.TryGet(Header(plain, "x-flare-request-id")!, out _));
    }

    [Fact]
    public async Task Port_DropOnExhaustedBudget_429WithRetryAfter_AndThePlanHeader()
    {
        await using var f = await StartWithHistoryAsync();
        await f.AddDeploymentAsync("weak", "weak@emu", pricePerMTokUsd: 0.1);
        // A request is estimated at about (10 + 8) tokens × $0.10 per million = $1.8e-6: the budget pays for one, not two.
        var id = await ReadyPlanAsync(f, "port", new { budgetUsd = 2.5e-6, budgetPeriodMinutes = 30, onExhausted = "Drop" });

        var first = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("port"), Ct);
        var second = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("port"), Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(first, "x-flare-plan"));
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Equal("port", Header(second, "x-flare-policy"));
        Assert.InRange(second.Headers.RetryAfter!.Delta!.Value.TotalMinutes, 1, 30);
        var error = JsonDocument.Parse(await second.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error");
        Assert.Equal("budget_exhausted", error.GetProperty("code").GetString());
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        var live = JsonDocument.Parse(await f.Client.GetStringAsync("/api/plans/live", Ct)).RootElement;
        Assert.Equal(0, live.GetProperty("budgets").GetArrayLength()); // the port plan is ready, not live
    }

    /// <summary>
    /// The acceptance test: the live plan best-quality sends everything to the strong deployment; applying a cheaper
    /// operating point (FLARE's weights with a cost weight) while clients keep sending moves traffic to the weak one, as
    /// the response headers and /metrics show, and not one request fails during the switch.
    /// </summary>
    [Fact]
    public async Task LivePlanSwitch_UnderConcurrentLoad_ShiftsTraffic_WithoutAFailedRequest()
    {
        await using var f = await StartWithHistoryAsync();
        await AddFleetAsync(f);
        var bestQuality = await ReadyPlanAsync(f, "best-quality");
        // w_c = 10 over costs normalised by the plan's sample: strong (100× the price) scores far below weak.
        var cheaper = await ReadyPlanAsync(f, "flare", new { qualityWeight = 1, costWeight = 10 });
        await ActivateAsync(f, bestQuality);

        var results = new ConcurrentQueue<(long Started, long Finished, HttpStatusCode Status, string? Deployment, string? Policy, string? Plan)>();
        using var stop = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        async Task LoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var started = clock.ElapsedTicks;
                using var response = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("flare"), Ct);
                results.Enqueue((started, clock.ElapsedTicks, response.StatusCode, Header(response, "x-flare-deployment"), Header(response, "x-flare-policy"), Header(response, "x-flare-plan")));
            }
        }

        var loops = Enumerable.Range(0, 4).Select(_ => Task.Run(LoopAsync, Ct)).ToArray();
        while (results.Count < 40)
        {
            await Task.Delay(10, Ct);
        }

        var switchStarted = clock.ElapsedTicks;
        await ActivateAsync(f, cheaper);
        var switched = clock.ElapsedTicks;
        var countAtSwitch = results.Count;
        while (results.Count < countAtSwitch + 40)
        {
            await Task.Delay(10, Ct);
        }

        await stop.CancelAsync();
        await Task.WhenAll(loops);

        var all = results.ToList();
        Assert.All(all, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        // Requests answered before the switch began read the old plan; requests sent after it returned, the new one. Those
        // in between (in flight during the switch) may have either, and must succeed like every other.
        var before = all.Where(r => r.Finished < switchStarted).ToList();
        var after = all.Where(r => r.Started > switched).ToList();
        Assert.True(before.Count >= 30 && after.Count >= 30, $"{before.Count} before, {after.Count} after");
        Assert.All(before, r => Assert.Equal(("strong@emu", "best-quality"), (r.Deployment, r.Policy)));
        Assert.All(after, r => Assert.Equal(("weak@emu", "flare", cheaper.ToString(System.Globalization.CultureInfo.InvariantCulture)), (r.Deployment, r.Policy, r.Plan)));

        var metrics = await f.Client.GetStringAsync("/metrics", Ct);
        var strong = all.Count(r => r.Deployment == "strong@emu");
        var weak = all.Count(r => r.Deployment == "weak@emu");
        Assert.Contains($"flare_requests_total{{deployment=\"strong@emu\",policy=\"best-quality\",status=\"200\"}} {strong}", metrics);
        Assert.Contains($"flare_requests_total{{deployment=\"weak@emu\",policy=\"flare\",status=\"200\"}} {weak}", metrics);
        Assert.DoesNotContain("status=\"5", metrics);
    }

    /// <summary>
    /// The Explain view's data: a request routed by the live flare plan is logged with every candidate's estimates and
    /// score and the winner it was sent to; feedback on it shows in the plan's observed metrics beside the prediction.
    /// </summary>
    [Fact]
    public async Task RoutedRequest_IsExplained_AndItsFeedbackIsThePlansObservedQuality()
    {
        await using var f = await StartWithHistoryAsync();
        await AddFleetAsync(f);
        var cheaper = await ReadyPlanAsync(f, "flare", new { qualityWeight = 1, costWeight = 10 });
        await ActivateAsync(f, cheaper);

        var routed = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("flare"), Ct);
        var plain = await f.Client.PostAsJsonAsync("/v1/chat/completions", Chat("strong"), Ct);
        var id = Header(routed, "x-flare-request-id")!;
        var feedback = await f.Client.PostAsJsonAsync("/v1/feedback", new { request_id = id, score = 0.75 }, Ct);
        Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);

        var detail = await LoggedAsync(f, id);
        Assert.Equal("weak@emu", detail.GetProperty("deployment").GetString());
        Assert.Equal(cheaper, detail.GetProperty("planVersion").GetInt64());
        var x = detail.GetProperty("explanation");
        Assert.Equal("weak@emu", x.GetProperty("winner").GetString());
        Assert.Equal("flare", x.GetProperty("policy").GetString());
        Assert.StartsWith("weak@emu has the highest score", x.GetProperty("why").GetString());
        var candidates = x.GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(["strong@emu", "weak@emu"], candidates.Select(c => c.GetProperty("deployment").GetString()).Order());
        var strong = candidates.Single(c => c.GetProperty("deployment").GetString() == "strong@emu");
        var weak = candidates.Single(c => c.GetProperty("chosen").GetBoolean());
        Assert.Equal(0.9, strong.GetProperty("quality").GetDouble(), 6); // from the test history
        Assert.Equal("history", strong.GetProperty("source").GetString());
        Assert.True(strong.GetProperty("costUsd").GetDouble() > 50 * weak.GetProperty("costUsd").GetDouble());
        Assert.True(weak.GetProperty("score").GetDouble() > strong.GetProperty("score").GetDouble());
        Assert.True(weak.GetProperty("latencyMs").GetDouble() > 0);
        Assert.Equal(0.75, detail.GetProperty("feedbackScore").GetDouble());

        var plainDetail = await LoggedAsync(f, Header(plain, "x-flare-request-id")!);
        Assert.Equal(JsonValueKind.Null, plainDetail.GetProperty("explanation").ValueKind);
        Assert.Equal(JsonValueKind.Null, plainDetail.GetProperty("planVersion").ValueKind);

        var observed = JsonDocument.Parse(await f.Client.GetStringAsync($"/api/plans/{cheaper}/observed", Ct)).RootElement;
        Assert.Equal(1, observed.GetProperty("observed").GetProperty("requests").GetInt32());
        Assert.Equal(0.75, observed.GetProperty("observed").GetProperty("meanFeedbackScore").GetDouble());
        Assert.Equal(1.0, observed.GetProperty("observed").GetProperty("trafficShare").GetProperty("weak@emu").GetDouble());
        Assert.True(observed.GetProperty("predicted").GetProperty("meanQuality").GetDouble() > 0);

        var missing = await f.Client.GetAsync("/api/requests/req_nope", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>GET /api/requests/{id} once the log writer has it (it writes within about 100 ms).</summary>
    private static async Task<JsonElement> LoggedAsync(GatewayFixture f, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await f.Client.GetAsync($"/api/requests/{id}", Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Request {id} was not in the log after 10 s ({response.StatusCode}).");
            await Task.Delay(50, Ct);
        }
    }
}
