using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Flare.Routing.Profiles;
using Microsoft.Playwright;

namespace Flare.Bench.Explorer;

/// <summary>
/// Slider-to-redraw in Chromium against a running Flare with the demo fleet: profiles and a routing history of the demo
/// workload are imported over <c>/api</c>, the explorer is opened at 1280×800, and each slider move is timed in the page
/// from the input event to Plotly's <c>plotly_afterplot</c> after the new solve (SignalR round trip, server-side solve,
/// render diff, Plotly.react).
/// </summary>
internal static class BrowserBench
{
    // Moves the slider in the page and resolves with the milliseconds until Plotly has drawn the next chart (−1 after 20 s).
    private const string MoveAndTime = """
        async ([testId, value]) => {
          const input = document.querySelector(`input[type=range][data-testid=${testId}]`);
          let plot = document.getElementById('explorer-chart');
          for (let i = 0; i < 100 && !(plot && typeof plot.on === 'function'); i++) {
            await new Promise(r => setTimeout(r, 100));
            plot = document.getElementById('explorer-chart');
          }
          const t0 = performance.now();
          const drawn = new Promise(resolve => {
            const timer = setTimeout(() => resolve(-1), 20000);
            const done = () => { clearTimeout(timer); plot.removeListener('plotly_afterplot', done); resolve(performance.now() - t0); };
            plot.on('plotly_afterplot', done);
          });
          input.value = String(value);
          input.dispatchEvent(new Event('input', { bubbles: true }));
          return await drawn;
        }
        """;

    public static async Task<int> RunAsync(Uri flare, int prompts, int moves, string adminToken, string password)
    {
        using var http = new HttpClient { BaseAddress = flare, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        using (var deployments = JsonDocument.Parse(await http.GetStringAsync("/api/deployments")))
        {
            foreach (var d in deployments.RootElement.EnumerateArray())
            {
                await ImportProfileAsync(http, d.GetProperty("id").GetInt32(), DemoWorkload.IsLarge(d.GetProperty("modelName").GetString()!));
            }
        }

        var started = DateTime.UtcNow;
        await ImportHistoryAsync(http, prompts);
        Console.WriteLine($"Imported {prompts:N0} history prompts and the estimator took them in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = new[] { Environment.GetEnvironmentVariable("FLARE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }.First(p => !string.IsNullOrEmpty(p) && File.Exists(p)),
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        });
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } })).NewPageAsync();
        started = DateTime.UtcNow;
        // Sign in through the real form first; every page needs an administrator.
        await page.GotoAsync(new Uri(flare, "login").ToString());
        await page.FillAsync("#userName", "admin");
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        await page.GotoAsync(new Uri(flare, "explorer").ToString());
        await Assertions.Expect(page.GetByTestId("explorer-sample")).ToContainTextAsync($"{prompts:N0} prompts", new() { Timeout = 300_000 });
        await Assertions.Expect(page.GetByTestId("predicted-quality")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await page.Locator("#explorer-chart.js-plotly-plot .scatterlayer .trace").First.WaitForAsync(new() { Timeout = 60_000, State = WaitForSelectorState.Attached });

        // The history's import ends with a rebuild of the estimator, and so of the sample: time the sliders once that is over.
        for (var quiet = 0; quiet < 5;)
        {
            await Task.Delay(1000);
            quiet = await page.GetByTestId("explorer-sample").GetAttributeAsync("data-refreshing") == "false" ? quiet + 1 : 0;
        }
        Console.WriteLine($"Explorer ready (sample built, first solve drawn) {(DateTime.UtcNow - started).TotalSeconds:0.0} s after opening the page: {await page.GetByTestId("explorer-sample").InnerTextAsync()}");
        Console.WriteLine();

        var slo = await MoveAsync(page, "slider-slo", moves, warmUp: 3);
        var rate = await MoveAsync(page, "slider-rate", moves, warmUp: 1);
        Console.WriteLine($"Slider-to-redraw in Chromium 1280×800 ({moves} moves each, 1 s apart; server = the page's own \"Solved in\" figure):");
        Console.WriteLine();
        Console.WriteLine("| slider | moves | median ms | p95 ms | max ms | server solve median ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Row("latency SLO (grid cached for the rate)", slo);
        Row("arrival rate (a new grid per move)", rate);
        return slo.Concat(rate).Any(m => m.Total < 0) ? 1 : 0;
    }

    private static async Task<List<(double Total, double Server)>> MoveAsync(IPage page, string slider, int moves, int warmUp)
    {
        var input = page.Locator($"input[type=range][data-testid={slider}]");
        var min = double.Parse((await input.GetAttributeAsync("min"))!, CultureInfo.InvariantCulture);
        var max = double.Parse((await input.GetAttributeAsync("max"))!, CultureInfo.InvariantCulture);
        var step = double.Parse((await input.GetAttributeAsync("step"))!, CultureInfo.InvariantCulture);
        var result = new List<(double, double)>();
        for (var k = 0; k < warmUp + moves; k++)
        {
            // Positions spread over the middle of the range, never the same twice in a row.
            var fraction = 0.1 + 0.8 * (k * 0.618034 % 1);
            var value = Math.Round((min + (max - min) * fraction) / step) * step;
            var total = await page.EvaluateAsync<double>(MoveAndTime, new object[] { slider, value.ToString(CultureInfo.InvariantCulture) });
            var solved = await page.GetByTestId("solve-ms").InnerTextAsync();
            var server = double.Parse(solved.Split(' ')[2], CultureInfo.InvariantCulture);
            if (k >= warmUp)
            {
                result.Add((total, server));
            }

            await Task.Delay(1000);
        }

        return result;
    }

    private static void Row(string what, List<(double Total, double Server)> moves)
    {
        var total = moves.Select(m => m.Total).Order().ToList();
        var server = moves.Select(m => m.Server).Order().ToList();
        var p95 = total[Math.Clamp((int)Math.Ceiling(0.95 * total.Count) - 1, 0, total.Count - 1)];
        Console.WriteLine($"| {what} | {total.Count} | {total[total.Count / 2]:0} | {p95:0} | {total[^1]:0} | {server[server.Count / 2]:0} |");
    }

    private static async Task ImportProfileAsync(HttpClient http, int deploymentId, bool large)
    {
        var model = large ? DemoWorkload.Large : DemoWorkload.Small;
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
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Profile import failed: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task ImportHistoryAsync(HttpClient http, int count)
    {
        var lines = new StringBuilder();
        foreach (var p in DemoWorkload.Prompts(count))
        {
            lines.AppendLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["prompt"] = p.Text,
                ["scores"] = DemoWorkload.Models.Select((m, i) => (m.Model, p.Scores[i])).ToDictionary(x => x.Model, x => x.Item2),
                ["output_tokens"] = DemoWorkload.Models.Select((m, i) => (m.Model, p.OutputTokens[i])).ToDictionary(x => x.Model, x => x.Item2),
            }));
        }

        var response = await http.PostAsync("/api/history/datasets?format=jsonl&name=explorer-bench", new StringContent(lines.ToString(), Encoding.UTF8, "application/x-ndjson"));
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"History import failed: {await response.Content.ReadAsStringAsync()}");
        }

        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            using var status = JsonDocument.Parse(await http.GetStringAsync("/api/history/estimator"));
            if (status.RootElement.GetProperty("ready").GetBoolean() && status.RootElement.GetProperty("prompts").GetInt32() == count)
            {
                return;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException("The estimator did not take the history within 5 minutes.");
    }
}
