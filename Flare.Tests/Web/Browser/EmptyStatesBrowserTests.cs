using Flare.Tests.Support;
using Microsoft.Playwright;

namespace Flare.Tests.Web.Browser;

/// <summary>
/// A new Flare with nothing registered, in real Chromium at 1280×800: every page fits the width (no sideways scrolling)
/// and, where it has nothing to show, says so and what to do next.
/// </summary>
[Collection(nameof(HostCollection))]
public sealed class EmptyStatesBrowserTests() : BrowserTest(demo: false)
{
    private static readonly (string Path, string Hint, string Screenshot)[] Pages =
    [
        ("", "No deployments yet. Register a GPU type, a model,", "empty-overview"),
        ("explorer", "No routing history yet: the explorer predicts quality from it.", "empty-explorer"),
        ("traffic", "No requests yet. Send one to POST /v1/chat/completions", "empty-traffic"),
        ("plans", "No plans yet. Compute one above", "empty-plans"),
        ("history", "No routing history yet. Import an evaluation set", "empty-history"),
        ("keys", "No API keys yet. Create one above", "empty-keys"),
        ("gpus", "No GPU types yet. Add the GPUs you run models on", "empty-gpus"),
        ("deployments", "No deployments yet. Add one to tell Flare where a model is served.", "empty-deployments"),
        ("requests/req_unknown", "is not in the request log", "empty-explain"),
    ];

    [Fact]
    public async Task EveryPage_At1280x800_FitsTheWidth_AndSaysWhatToDoNext()
    {
        var page = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        foreach (var (path, hint, screenshot) in Pages)
        {
            await page.GotoAsync(new Uri(Server.BaseAddress, path).ToString());
            await page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });

            await Assertions.Expect(page.Locator(".mud-main-content")).ToContainTextAsync(hint, new() { Timeout = 15_000 });
            var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
            Assert.Equal(1280, widths[1]);
            Assert.True(widths[0] <= widths[1], $"/{path} is {widths[0]} px wide at a {widths[1]} px viewport");
            await Artifacts.ScreenshotAsync(page, screenshot);
        }
    }
}
