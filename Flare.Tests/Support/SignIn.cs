using System.Net;
using System.Text.RegularExpressions;

namespace Flare.Tests.Support;

/// <summary>Signs an HTTP client in through the real sign-in form (antiforgery token and all), as a browser would.</summary>
public static partial class SignIn
{
    /// <summary>A client with a cookie jar, signed in as the test administrator, that does not follow redirects.</summary>
    public static async Task<HttpClient> CreateSignedInClientAsync(Uri baseAddress, CancellationToken ct = default)
    {
        var client = CreateCookieClient(baseAddress);
        var response = await PostFormAsync(client, "login", new() { ["Input.UserName"] = AdminCredentials.UserName, ["Input.Password"] = AdminCredentials.Password }, ct);
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }

        return client;
    }

    public static HttpClient CreateCookieClient(Uri baseAddress) =>
        new(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = baseAddress };

    /// <summary>GETs the page of a server-rendered form, then posts <paramref name="fields"/> with the form's handler name and antiforgery token.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, Dictionary<string, string> fields, CancellationToken ct = default)
    {
        var page = await client.GetStringAsync(path, ct);
        var form = new Dictionary<string, string>(fields)
        {
            ["__RequestVerificationToken"] = HiddenValue(page, "__RequestVerificationToken"),
            ["_handler"] = HiddenValue(page, "_handler"),
        };
        return await client.PostAsync(path, new FormUrlEncodedContent(form), ct);
    }

    private static string HiddenValue(string html, string name)
    {
        var match = HiddenInput().Matches(html).FirstOrDefault(m => m.Groups["name"].Value == name)
            ?? throw new InvalidOperationException($"The page has no hidden field {name}.");
        return WebUtility.HtmlDecode(match.Groups["value"].Value);
    }

    [GeneratedRegex("""<input[^>]*type="hidden"[^>]*name="(?<name>[^"]+)"[^>]*value="(?<value>[^"]*)"[^>]*>""")]
    private static partial Regex HiddenInput();
}
