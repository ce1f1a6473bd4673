using Flare.Tests.Support;
using Microsoft.Playwright;

namespace Flare.Tests.Web.Browser;

/// <summary>Signing in and out in real Chromium: the redirect to the form, a wrong password, the session, sign-out.</summary>
[Collection(nameof(HostCollection))]
public sealed class SignInBrowserTests() : BrowserTest(demo: true)
{
    [Fact]
    public async Task Operator_IsSentToSignIn_SignsIn_WorksInteractively_AndSignsOut()
    {
        var page = await Browser.NewPageAsync();

        await page.GotoAsync(new Uri(Server.BaseAddress, "deployments").ToString());
        Assert.Contains("/login", page.Url);
        Assert.Contains("returnUrl=%2Fdeployments", page.Url, StringComparison.OrdinalIgnoreCase);

        await page.FillAsync("#userName", AdminCredentials.UserName);
        await page.FillAsync("#password", "wrong-password-here");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync("Wrong user name or password.");
        await Artifacts.ScreenshotAsync(page, "sign-in-wrong-password");

        await page.FillAsync("#userName", AdminCredentials.UserName);
        await page.FillAsync("#password", AdminCredentials.Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.EndsWith("/deployments", StringComparison.Ordinal));
        await page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });
        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync(AdminCredentials.UserName);
        await Artifacts.ScreenshotAsync(page, "sign-in-deployments");

        await page.GetByTestId("sign-out").ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/login", StringComparison.Ordinal));
        await page.GotoAsync(new Uri(Server.BaseAddress, "gpus").ToString());
        Assert.Contains("/login", page.Url);
    }
}
