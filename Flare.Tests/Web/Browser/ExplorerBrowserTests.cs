using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Flare.Routing.Profiles;
using Flare.Tests.Support;
using Microsoft.Playwright;

namespace Flare.Tests.Web.Browser;

/// <summary>The Pareto explorer in real Chromium against Flare on real Kestrel, on the demo fleet with profiles and a
/// routing history imported over <c>/api</c>.</summary>
[Collection(nameof(HostCollection))]
public sealed class ExplorerBrowserTests() : BrowserTest(demo: true)
{
    internal const int HistoryPrompts = 400;

    [Fact]
    public async Task Operator_MovesTheLatencySlo_AndThePredictedPointAndTheChartFollow()
    {
        using var http = Server.CreateClient();
        var deployments = await DeploymentsAsync(http);
        foreach (var (id, model) in deployments)
        {
            await ImportProfileAsync(http, id, IsLarge(model));
        }

        await ImportHistoryAsync(http, deployments.Select(d => d.Model).Distinct().ToList());

        var page = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        await page.GotoAsync(new Uri(Server.BaseAddress, "explorer").ToString());
        await page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });
        await Expect(page.GetByTestId("predicted-quality")).ToBeVisibleAsync(new() { Timeout = 90_000 });
        var chart = page.GetByTestId("explorer-chart");
        await Expect(chart.Locator(".js-plotly-plot .scatterlayer .trace").First).ToBeAttachedAsync(new() { Timeout = 15_000 });
        await Expect(page.GetByTestId("explorer-sample")).ToContainTextAsync($"{HistoryPrompts} prompts × {deployments.Count} deployments");
        await WaitForSettledSampleAsync(page);

        var before = await ReadAsync(page);
        await Artifacts.ScreenshotAsync(page, "explorer-loose-slo");

        // Drag the SLO down to a third of its range, as a person would: click on the slider's track.
        var slider = page.GetByTestId("slider-slo");
        var box = (await slider.BoundingBoxAsync())!;
        await page.Mouse.ClickAsync(box.X + box.Width * 0.3f, box.Y + box.Height / 2);

        await Expect(page.GetByTestId("value-slo")).Not.ToHaveTextAsync(before.Slo);
        await Expect(chart).Not.ToHaveAttributeAsync("data-revision", before.Revision);
        await Expect(page.GetByTestId("predicted-quality")).Not.ToHaveTextAsync(before.Quality, new() { Timeout = 10_000 });
        var after = await ReadAsync(page);
        Assert.True(Ms(after.Slo) < Ms(before.Slo), $"SLO {after.Slo} after {before.Slo}");
        Assert.True(Ms(after.Mean) <= Ms(after.Slo), $"the best point's mean e2e {after.Mean} is within the SLO {after.Slo}");
        Assert.True(double.Parse(after.Quality, CultureInfo.InvariantCulture) < double.Parse(before.Quality, CultureInfo.InvariantCulture),
            $"a tighter SLO costs quality: {before.Quality} → {after.Quality}");
        await Expect(chart.Locator(".js-plotly-plot .scatterlayer .trace").First).ToBeAttachedAsync();
        await Artifacts.ScreenshotAsync(page, "explorer-tight-slo");

        // Clicking a point selects it: hovering shows its numbers; the panel then shows the point Plotly reports clicked.
        var front = chart.Locator(".scatterlayer .trace").Nth(1).Locator("path.point").First;
        var dot = (await front.BoundingBoxAsync())!;
        var (x, y) = (dot.X + dot.Width / 2, dot.Y + dot.Height / 2);
        await page.Mouse.MoveAsync(x - 20, y);
        await page.Mouse.MoveAsync(x, y, new() { Steps = 5 });
        await Expect(chart.Locator(".hoverlayer .hovertext").First).ToContainTextAsync("per 1k requests");
        await page.EvaluateAsync("() => document.getElementById('explorer-chart').on('plotly_click', d => window.clickedHover = d.points[0].hovertext)");
        await page.Mouse.ClickAsync(x, y);
        await Expect(page.GetByTestId("predicted-title")).ToHaveTextAsync("Selected point");
        var clicked = await page.EvaluateAsync<string>("() => window.clickedHover");
        Assert.StartsWith($"<b>{await page.GetByTestId("predicted-label").InnerTextAsync()}</b>", clicked);
        await Artifacts.ScreenshotAsync(page, "explorer-selected-point");
        await page.GetByTestId("back-to-best").ClickAsync();
        await Expect(page.GetByTestId("predicted-quality")).ToHaveTextAsync(after.Quality);

        // Another projection is one click away.
        await page.GetByTestId("toggle-projection").GetByText("quality vs cost").ClickAsync();
        await Expect(chart.Locator(".xtitle")).ToContainTextAsync("cost per 1k requests");
        await Artifacts.ScreenshotAsync(page, "explorer-quality-vs-cost");

        // The SLO can bound time to first token instead: the slider is refitted to TTFT's magnitudes and the point re-solved.
        await page.GetByTestId("toggle-projection").GetByText("quality vs latency").ClickAsync();
        await page.GetByTestId("toggle-metric").GetByText("TTFT").ClickAsync();
        await Expect(chart.Locator(".xtitle")).ToContainTextAsync("mean TTFT (ms)");
        await Expect(page.GetByTestId("whatif-panel")).ToContainTextAsync("mean TTFT ≤");
        Assert.True(Ms(await page.GetByTestId("predicted-mean").InnerTextAsync()) < Ms(after.Mean), "TTFT is a fraction of e2e");
    }

    [Fact]
    public async Task Overview_ListsProfilesNeedingAttention_AndFollowsAProfileImportWithoutReload()
    {
        using var http = Server.CreateClient();
        var deployments = await DeploymentsAsync(http);
        var page = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        await page.GotoAsync(Server.BaseAddress.ToString());
        await page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });

        var missing = page.GetByTestId("overview-profiles").Locator("[data-issue=Missing]");
        await Expect(missing).ToHaveCountAsync(deployments.Count);
        await Expect(page.GetByTestId("overview-share")).ToContainTextAsync("No requests in the last minute");
        await Artifacts.ScreenshotAsync(page, "overview-no-profiles");

        await ImportProfileAsync(http, deployments[0].Id, IsLarge(deployments[0].Model));

        await Expect(missing).ToHaveCountAsync(deployments.Count - 1);
        await Artifacts.ScreenshotAsync(page, "overview-one-profile");
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    /// <summary>
    /// The end of an import refits the estimator's embedder, and the explorer then rebuilds its sample (it looks for
    /// changes every 5 s): wait until the sample has stayed the same for longer than that, so the test moves sliders on it.
    /// </summary>
    internal static async Task WaitForSettledSampleAsync(IPage page)
    {
        var sample = page.GetByTestId("explorer-sample");
        var (last, quiet) = ("", 0);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (quiet < 7)
        {
            Assert.True(DateTime.UtcNow < deadline, "the explorer's sample kept changing for 60 s");
            await Task.Delay(1000);
            var now = await sample.InnerTextAsync() + await sample.GetAttributeAsync("data-refreshing");
            (last, quiet) = (now, now == last ? quiet + 1 : 0);
        }
    }

    private sealed record Reading(string Slo, string Quality, string Mean, string Revision);

    private static async Task<Reading> ReadAsync(IPage page) => new(
        await page.GetByTestId("value-slo").InnerTextAsync(),
        await page.GetByTestId("predicted-quality").InnerTextAsync(),
        await page.GetByTestId("predicted-mean").InnerTextAsync(),
        (await page.GetByTestId("explorer-chart").GetAttributeAsync("data-revision"))!);

    internal static double Ms(string text) => double.Parse(text.Replace("ms", "").Replace(",", "").Trim(), CultureInfo.InvariantCulture);

    internal static bool IsLarge(string model) => model.Contains("49b") || model.Contains("70b");

    internal static async Task<List<(int Id, string Model)>> DeploymentsAsync(HttpClient http)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync("/api/deployments"));
        return json.RootElement.EnumerateArray().Select(d => (d.GetProperty("id").GetInt32(), d.GetProperty("modelName").GetString()!)).ToList();
    }

    /// <summary>A measured grid (input × output length × concurrency) from curves shaped like a 7–9B model on one A100 or a
    /// 49–70B model on two H100s, with ±3 % deterministic noise, imported as the generic CSV layout and fitted by Flare.</summary>
    internal static async Task ImportProfileAsync(HttpClient http, int deploymentId, bool large)
    {
        var model = large ? new LatencyModel(45, 0.08, 0.006, 2.5, 22, 0.25, 0.00008) : new LatencyModel(25, 0.05, 0.004, 1.5, 11, 0.12, 0.00004);
        var csv = new StringBuilder(GenericProfileCsv.Header).Append('\n');
        var k = 0;
        foreach (var input in new[] { 128, 512, 2048 })
        {
            foreach (var output in new[] { 16, 128, 384 })
            {
                foreach (var c in new[] { 1, 4, 16 })
                {
                    for (var r = 0; r < 3; r++, k++)
                    {
                        var noise = 1 + 0.03 * Math.Sin(k * 1.7);
                        var ttft = model.TtftMs(input, output, c) * noise;
                        var tpot = model.TpotMs(input, output, c) * noise;
                        csv.Append(CultureInfo.InvariantCulture, $"{input},{output},{c},{ttft:0.###},{tpot:0.####},{ttft + (output - 1) * tpot:0.###}\n");
                    }
                }
            }
        }

        using var form = new MultipartFormDataContent
        {
            { new StringContent("generic"), "layout" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv.ToString())) { Headers = { ContentType = new MediaTypeHeaderValue("text/csv") } }, "file", "profile.csv" },
        };
        var response = await http.PostAsync($"/api/deployments/{deploymentId}/profile/import", form);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An evaluation set scoring every demo model: large models hold up on hard prompts, small ones do not.</summary>
    internal static async Task ImportHistoryAsync(HttpClient http, IReadOnlyList<string> models)
    {
        var random = new Random(5);
        var topics = new[] { "sorting algorithms", "French grammar", "tax law", "protein folding", "the Roman empire", "SQL joins", "poetry", "orbital mechanics" };
        var lines = new StringBuilder();
        for (var j = 0; j < HistoryPrompts; j++)
        {
            var hard = random.NextDouble();
            var scores = models.ToDictionary(m => m, m => Math.Round(Math.Clamp((IsLarge(m) ? 0.92 - 0.25 * hard : 0.88 - 0.7 * hard) + 0.1 * (random.NextDouble() - 0.5), 0, 1), 3));
            var tokens = models.ToDictionary(m => m, m => (int)((IsLarge(m) ? 220 : 160) * (0.5 + hard)));
            var prompt = $"Question {j} ({(hard > 0.6 ? "hard" : "easy")}): explain {topics[j % topics.Length]} in {(int)(3 + 10 * hard)} steps.";
            lines.AppendLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = prompt, ["scores"] = scores, ["output_tokens"] = tokens }));
        }

        var response = await http.PostAsync("/api/history/datasets?format=jsonl&name=explorer-eval", new StringContent(lines.ToString(), Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        // The import runs in the background; the live estimator then holds every prompt under the registry's model names.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var status = JsonDocument.Parse(await http.GetStringAsync("/api/history/estimator"));
            var root = status.RootElement;
            if (root.GetProperty("ready").GetBoolean() && root.GetProperty("prompts").GetInt32() == HistoryPrompts
                && root.GetProperty("models").GetArrayLength() == models.Count)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the estimator did not take the history within 60 s: {root}");
            await Task.Delay(200);
        }
    }
}
