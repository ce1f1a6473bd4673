using System.Diagnostics;
using Flare.Data.Profiling;
using Flare.Tests.Support;
using Microsoft.Playwright;

namespace Flare.Tests.Web.Profiling;

/// <summary>Profiling from the browser, in real Chromium against Flare on real Kestrel and the emulator.</summary>
[Collection(nameof(HostCollection))]
public sealed class ProfilingBrowserTests : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();
    private ProfilingFixture _f = null!;

    public async ValueTask InitializeAsync()
    {
        // The form starts from these defaults: a small grid that takes a few seconds at the emulator's speed-up.
        _f = await ProfilingFixture.StartAsync(
            "--Flare:Profiling:InputLengths:0=512", "--Flare:Profiling:InputLengths:1=2048",
            "--Flare:Profiling:OutputLengths:0=32", "--Flare:Profiling:OutputLengths:1=96",
            "--Flare:Profiling:Concurrency:0=1", "--Flare:Profiling:Concurrency:1=2", "--Flare:Profiling:Concurrency:2=4",
            "--Flare:Profiling:RequestsPerCell=3");
        await _browser.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _f.DisposeAsync();
    }

    [Fact]
    public async Task Operator_StartsProfilingFromDeployments_SeesProgressMove_AndCurvesAppear()
    {
        var deployment = await _f.AddDeploymentAsync();
        var page = await _browser.NewSignedInPageAsync(_f.Flare.BaseAddress);
        await OpenAsync(page, "deployments");
        await page.GetByRole(AriaRole.Link, new() { Name = $"Profile {deployment.Name}" }).ClickAsync();
        await page.WaitForURLAsync($"**/deployments/{deployment.Id}/profile");
        await WaitInteractiveAsync(page);

        await page.GetByTestId("start-profiling").ClickAsync();
        var progress = page.GetByTestId("profile-progress");
        await Expect(progress).ToBeVisibleAsync();

        // The bar moves without a reload: some progress, then more.
        var first = await WaitForProgressAsync(page, p => p > 0);
        await WaitForProgressAsync(page, p => p > first);
        await Artifacts.ScreenshotAsync(page, "profiling-progress");

        // The run completes; its fit and the curves over the samples appear.
        await Expect(page.GetByTestId("live-run")).ToBeHiddenAsync(new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("run-history").GetByTestId("run-status").First).ToHaveTextAsync("Completed");
        await Expect(page.GetByTestId("fit-quality")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("fit-ttft")).ToContainTextAsync("%");
        foreach (var chart in new[] { "chart-ttft", "chart-tpot", "chart-e2e", "chart-throughput" })
        {
            // Plotly draws one SVG trace group per series: samples and fitted curves.
            await Expect(page.GetByTestId(chart).Locator(".js-plotly-plot .scatterlayer .trace").First).ToBeAttachedAsync(new() { Timeout = 15_000 });
        }

        Assert.True(await page.GetByTestId("chart-ttft").Locator(".scatterlayer .trace").CountAsync() >= 2);
        await Artifacts.ScreenshotAsync(page, "profiling-curves");
    }

    [Fact]
    public async Task Operator_CancelsARunningSweep_LoadStopsWithinSeconds_AndTheRunCanBeResumed()
    {
        var deployment = await _f.AddDeploymentAsync("cancel-me");
        var run = await _f.StartRunAsync(deployment.Id, new ProfileSweepSettings
        {
            InputLengths = [1024, 2048], OutputLengths = [256], Concurrency = [8, 16], RequestsPerCell = 32,
        });
        var page = await _browser.NewSignedInPageAsync(_f.Flare.BaseAddress);
        await OpenAsync(page, $"deployments/{deployment.Id}/profile");
        Assert.True(_f.Fleet.TryGet("cancel-me", out var backend));

        // Wait until the load is on, then cancel from the page.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (backend.Running + backend.Waiting < 4)
        {
            Assert.True(DateTime.UtcNow < deadline, "the sweep never put load on the deployment");
            await Task.Delay(20);
        }

        await page.GetByTestId("cancel-run").ClickAsync();
        var clock = Stopwatch.StartNew();
        while (backend.Running + backend.Waiting > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"still {backend.Running + backend.Waiting} requests at the deployment {clock.Elapsed.TotalSeconds:0.0} s after cancelling");
            await Task.Delay(10);
        }

        var sent = backend.RequestCount;
        var cancelled = await _f.WaitForRunAsync(run.Id, r => !r.IsLive, TimeSpan.FromSeconds(10));
        Assert.Equal(ProfileRunStatus.Cancelled, cancelled.Status);
        await Task.Delay(500);
        Assert.Equal(sent, backend.RequestCount); // nothing more is sent

        // The page shows it, offers to resume, and the samples measured before the cancel are kept.
        var row = page.GetByTestId($"run-{run.Id}");
        await Expect(row.GetByTestId("run-status")).ToHaveTextAsync("Cancelled");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToBeVisibleAsync();
        Assert.Equal(cancelled.SamplesRecorded, (await _f.Store.ListSamplesAsync(run.Id)).Count);
        await Artifacts.ScreenshotAsync(page, "profiling-cancelled");
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(new Uri(_f.Flare.BaseAddress, path).ToString());
        await WaitInteractiveAsync(page);
    }

    private static Task WaitInteractiveAsync(IPage page) =>
        page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });

    private static async Task<double> WaitForProgressAsync(IPage page, Func<double, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var bar = page.GetByTestId("profile-progress");
            if (await bar.CountAsync() > 0 && double.TryParse(await bar.GetAttributeAsync("data-progress"), System.Globalization.CultureInfo.InvariantCulture, out var p) && condition(p))
            {
                return p;
            }

            Assert.True(DateTime.UtcNow < deadline, "the progress bar did not move within 60 s");
            await Task.Delay(50);
        }
    }
}
