using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Tests.Support;
using Microsoft.Playwright;
using static Flare.Tests.Web.Browser.ExplorerBrowserTests;

namespace Flare.Tests.Web.Browser;

/// <summary>
/// The control room end to end, in real Chromium against Flare on real Kestrel with the demo fleet served by the in-process
/// emulator: choose an operating point in the explorer, apply it, send <c>/v1</c> traffic and watch the dashboard's traffic
/// split and the predicted-vs-observed panel follow the plan, explain a request, apply another point, roll back.
/// </summary>
[Collection(nameof(HostCollection))]
public sealed class ControlRoomBrowserTests() : BrowserTest(demo: true, "--Flare:HostEmulator=true",
    $"--Flare:EmulatorBaseUrl=http://127.0.0.1:{FlareProcess.FreePort()}", "--Flare:EmulatorTimeScale=20", $"--Flare:BootstrapApiKey={ClientKey}")
{
    private const string ClientKey = "sk-flare-control-room-test-0123456789";

    [Fact]
    public async Task Operator_AppliesAPoint_TrafficFollowsOnTheDashboard_ExplainsARequest_AndRollsBack()
    {
        using var admin = Server.CreateClient();
        var deployments = await DeploymentsAsync(admin);
        foreach (var (id, model) in deployments)
        {
            await ImportProfileAsync(admin, id, IsLarge(model));
        }

        await ImportHistoryAsync(admin, deployments.Select(d => d.Model).Distinct().ToList());

        var explorer = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        await explorer.GotoAsync(new Uri(Server.BaseAddress, "explorer").ToString());
        await explorer.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });
        await Expect(explorer.GetByTestId("predicted-quality")).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await WaitForSettledSampleAsync(explorer);
        await Expect(explorer.GetByTestId("live-plan-none")).ToBeVisibleAsync();
        await Expect(explorer.GetByTestId("explorer-rollback")).ToBeDisabledAsync();
        var loose = await explorer.GetByTestId("predicted-quality").InnerTextAsync();

        // A tight latency SLO: the best point that meets it is a faster, lower-quality one.
        var slider = explorer.GetByTestId("slider-slo");
        var box = (await slider.BoundingBoxAsync())!;
        await explorer.Mouse.ClickAsync(box.X + box.Width * 0.3f, box.Y + box.Height / 2);
        await Expect(explorer.GetByTestId("predicted-quality")).Not.ToHaveTextAsync(loose, new() { Timeout = 10_000 });
        var fast = await ApplyShownPointAsync(explorer, "explorer-applied-tight-slo");

        var overview = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        await overview.GotoAsync(Server.BaseAddress.ToString());
        await overview.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });
        await Expect(overview.GetByTestId("overview-share")).ToContainTextAsync("No requests in the last minute");

        // Traffic under the first plan: every request carries its version, goes only where the plan sends traffic, and the
        // dashboard's split is the split the answers reported.
        var served = new List<(DateTime At, string Deployment)>();
        var first = await SendAsync(40, fast, served);
        await ExpectSplitAsync(overview, served);
        await Artifacts.ScreenshotAsync(overview, "overview-traffic-plan-" + fast);
        await Expect(explorer.GetByTestId("observed-count")).ToContainTextAsync($"Observed: 40 request(s) routed by plan {fast}", new() { Timeout = 10_000 });
        await Expect(explorer.GetByTestId("observed-latency")).Not.ToHaveTextAsync("—");
        await Artifacts.ScreenshotAsync(explorer, "explorer-predicted-vs-observed");

        // Any of those requests can be explained.
        var explain = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        await explain.GotoAsync(new Uri(Server.BaseAddress, $"requests/{first.RequestId}").ToString());
        await Expect(explain.GetByTestId("explain-served")).ToContainTextAsync(first.Deployment, new() { Timeout = 15_000 });
        if (first.Policy is "flare" or "routerwise")
        {
            await Expect(explain.GetByTestId("explain-winner")).ToContainTextAsync(first.Deployment);
            await Expect(explain.GetByTestId("explain-why")).ToContainTextAsync($"Why {first.Deployment}:");
        }
        else
        {
            await Expect(explain.GetByTestId("explain-none")).ToContainTextAsync("does not score candidates");
        }

        await Artifacts.ScreenshotAsync(explain, "explain-request");
        await AssertFitsWidthAsync(explain);
        await AssertFitsWidthAsync(explorer);
        await AssertFitsWidthAsync(overview);

        // Back to a loose SLO: the best-quality point, applied as a second plan, takes the traffic.
        await explorer.GetByTestId("slider-slo").PressAsync("End");
        await Expect(explorer.GetByTestId("predicted-quality")).ToHaveTextAsync(loose, new() { Timeout = 10_000 });
        var best = await ApplyShownPointAsync(explorer, "explorer-applied-loose-slo");
        Assert.NotEqual(fast, best);
        await SendAsync(40, best, served);
        await ExpectSplitAsync(overview, served);
        await Artifacts.ScreenshotAsync(overview, "overview-traffic-plan-" + best);

        // Roll back from the explorer: the first plan is live again and routes the next requests.
        await Expect(explorer.GetByTestId("explorer-rollback")).ToHaveTextAsync($"Roll back to plan {fast}");
        await explorer.GetByTestId("explorer-rollback").ClickAsync();
        await explorer.GetByRole(AriaRole.Button, new() { Name = "Roll back", Exact = true }).ClickAsync();
        await Expect(explorer.GetByTestId("live-plan-title")).ToContainTextAsync($"Plan {fast} ·", new() { Timeout = 10_000 });
        await Expect(explorer.GetByTestId("live-plan-title")).ToContainTextAsync("rolled back from the Pareto explorer");
        await SendAsync(20, fast, served);
        await ExpectSplitAsync(overview, served);
        await Artifacts.ScreenshotAsync(explorer, "explorer-rolled-back");
        await Artifacts.ScreenshotAsync(overview, "overview-after-roll-back");

        var audit = JsonDocument.Parse(await admin.GetStringAsync("/api/plans/activations")).RootElement.EnumerateArray()
            .Select(a => a.GetProperty("planId").GetInt64()).ToList();
        Assert.Equal([fast, best, fast], audit.Take(3).Reverse());
    }

    /// <summary>Applies the point the slider panel shows, confirms, and returns the plan that became live.</summary>
    private async Task<long> ApplyShownPointAsync(IPage explorer, string screenshot)
    {
        using var admin = Server.CreateClient();
        var before = await LivePlanAsync(admin);
        await explorer.GetByTestId("apply-point").ClickAsync();
        await explorer.GetByRole(AriaRole.Button, new() { Name = "Apply", Exact = true }).ClickAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long live;
        while ((live = await LivePlanAsync(admin)) == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the applied point did not become the live plan within 60 s");
            await Task.Delay(200);
        }

        await Expect(explorer.GetByTestId("live-plan-title")).ToContainTextAsync($"Plan {live} ·", new() { Timeout = 10_000 });
        await Expect(explorer.GetByTestId("live-plan-title")).ToContainTextAsync("applied from the Pareto explorer");
        await Artifacts.ScreenshotAsync(explorer, screenshot);
        return live;
    }

    private static async Task<long> LivePlanAsync(HttpClient admin)
    {
        var plan = JsonDocument.Parse(await admin.GetStringAsync("/api/plans/live")).RootElement.GetProperty("plan");
        return plan.ValueKind == JsonValueKind.Object ? plan.GetProperty("id").GetInt64() : 0;
    }

    private sealed record Served(string RequestId, string Deployment, string? Policy, DateTime At);

    /// <summary>
    /// Sends <paramref name="count"/> chat requests to the router name, four at a time, with prompts like the history's;
    /// asserts each was routed by <paramref name="plan"/> to a deployment the plan predicts traffic for, and counts them.
    /// </summary>
    private async Task<Served> SendAsync(int count, long plan, List<(DateTime At, string Deployment)> served)
    {
        using var admin = Server.CreateClient();
        var predicted = JsonDocument.Parse(await admin.GetStringAsync($"/api/plans/{plan}")).RootElement.GetProperty("predicted").GetProperty("trafficShare")
            .EnumerateObject().Where(p => p.Value.GetDouble() > 0).Select(p => p.Name).ToHashSet();
        using var client = new HttpClient { BaseAddress = Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey);
        var topics = new[] { "sorting algorithms", "French grammar", "tax law", "protein folding" };
        var results = new List<Served>();
        for (var batch = 0; batch < count; batch += 4)
        {
            var answers = await Task.WhenAll(Enumerable.Range(batch, Math.Min(4, count - batch)).Select(async j =>
            {
                var prompt = $"Question {j} ({(j % 3 == 0 ? "hard" : "easy")}): explain {topics[j % topics.Length]} in {3 + (j % 10)} steps.";
                using var response = await client.PostAsJsonAsync("/v1/chat/completions",
                    new { model = "flare", max_tokens = 16, messages = new[] { new { role = "user", content = prompt } } });
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                Assert.Equal(plan.ToString(CultureInfo.InvariantCulture), Header(response, "x-flare-plan"));
                return new Served(Header(response, "x-flare-request-id")!, Header(response, "x-flare-deployment")!, Header(response, "x-flare-policy"), DateTime.UtcNow);
            }));
            results.AddRange(answers);
        }

        foreach (var r in results)
        {
            Assert.Contains(r.Deployment, predicted);
            served.Add((r.At, r.Deployment));
        }

        return results[0];
    }

    /// <summary>
    /// The dashboard's traffic share per deployment, a rolling minute, shows exactly the counts the answers of that minute
    /// reported. Answers within two seconds of the minute's edge are waited out rather than guessed.
    /// </summary>
    private static async Task ExpectSplitAsync(IPage overview, List<(DateTime At, string Deployment)> served)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var last = "";
        while (true)
        {
            var now = DateTime.UtcNow;
            if (!served.Any(s => Math.Abs((now - s.At).TotalSeconds - 60) < 2))
            {
                var expected = served.Where(s => now - s.At < TimeSpan.FromSeconds(60)).GroupBy(s => s.Deployment)
                    .ToDictionary(g => g.Key, g => g.Count());
                var shown = new Dictionary<string, int>();
                foreach (var row in await overview.GetByTestId("overview-share").Locator("[data-testid=share-row]").AllAsync())
                {
                    var text = await row.InnerTextAsync();
                    var count = text[(text.LastIndexOf('(') + 1)..text.LastIndexOf(')')];
                    shown[(await row.GetAttributeAsync("data-deployment"))!] = int.Parse(count, CultureInfo.InvariantCulture);
                }

                if (shown.Count == expected.Count && expected.All(e => shown.GetValueOrDefault(e.Key) == e.Value))
                {
                    var total = expected.Values.Sum();
                    foreach (var (deployment, count) in expected)
                    {
                        await Expect(overview.Locator($"[data-testid=share-row][data-deployment='{deployment}']").GetByTestId("share-value"))
                            .ToHaveTextAsync((count / (double)total).ToString("0%", CultureInfo.InvariantCulture));
                    }

                    return;
                }

                last = $"expected {string.Join(", ", expected.Select(e => $"{e.Key} {e.Value}"))}; shown {string.Join(", ", shown.Select(e => $"{e.Key} {e.Value}"))}";
            }

            Assert.True(DateTime.UtcNow < deadline, $"the dashboard's split did not follow the traffic: {last}");
            await Task.Delay(500);
        }
    }

    /// <summary>At 1280×800 the page does not scroll sideways (wide tables scroll inside their own box).</summary>
    private static async Task AssertFitsWidthAsync(IPage page)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        Assert.True(widths[0] <= widths[1], $"{page.Url} is {widths[0]} px wide at a {widths[1]} px viewport");
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : null;

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
