using Microsoft.Playwright;

namespace Flare.Tests.Support;

/// <summary>
/// Debian's Chromium driven by Playwright (whose driver ships inside its NuGet package and works
/// offline). The README's test command installs Chromium when it is missing.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var chromium = FindChromium() ?? throw new InvalidOperationException(
            "Chromium is not installed: run ./test.sh (it installs Debian's chromium package) or apt-get install -y chromium.");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>A new page at 1280×800, the size the control room must stay usable at.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();

        // Browser-side errors (a script refused by the content security policy, a failed circuit) in the test's output.
        var output = TestContext.Current.TestOutputHelper;
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                output?.WriteLine($"[browser {message.Type}] {message.Text}");
            }
        };
        return page;
    }

    /// <summary>A new page already signed in as the test administrator on <paramref name="baseAddress"/>, through the real sign-in form.</summary>
    public async Task<IPage> NewSignedInPageAsync(Uri baseAddress)
    {
        var page = await NewPageAsync();
        await SignInAsync(page, baseAddress);
        return page;
    }

    public static async Task SignInAsync(IPage page, Uri baseAddress, string userName = AdminCredentials.UserName, string password = AdminCredentials.Password)
    {
        await page.GotoAsync(new Uri(baseAddress, "login").ToString());
        await page.FillAsync("#userName", userName);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
    }

    private static string? FindChromium() =>
        new[] { Environment.GetEnvironmentVariable("FLARE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));
}

/// <summary>
/// What tests keep for people to look at, under <c>artifacts/</c> (on the PostgreSQL pass <c>artifacts/postgres/</c>, so the
/// two passes of <c>./test.sh</c>, which run at the same time, never write the same file): screenshots, attached to the
/// test result too, and measured figures.
/// </summary>
public static class Artifacts
{
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        await File.WriteAllBytesAsync(Path.Combine(Folder("screenshots"), name + ".png"), bytes);
        TestContext.Current.AddAttachment(name + ".png", bytes, "image/png");
    }

    /// <summary>The folder (created) for this pass's artifacts, or a subfolder of it.</summary>
    public static string Folder(params string[] subfolders)
    {
        var root = Path.Combine(RepositoryRoot(), "artifacts");
        var dir = Path.Combine([TestProvider.IsPostgres ? Path.Combine(root, "postgres") : root, .. subfolders]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flare.sln")))
            {
                return dir.FullName;
            }
        }

        return Path.GetTempPath();
    }
}
