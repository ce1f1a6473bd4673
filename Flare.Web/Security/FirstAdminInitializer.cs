using Microsoft.Extensions.Options;

namespace Flare.Web.Security;

/// <summary>
/// Creates the first administrator from <c>Flare:Admin:UserName</c> / <c>Flare:Admin:Password</c> at
/// start when none exists. Registered after the database initializer, so the schema is there.
/// </summary>
internal sealed partial class FirstAdminInitializer(AdminAccounts accounts, IOptions<AdminOptions> options, ILogger<FirstAdminInitializer> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (string.IsNullOrEmpty(o.Password))
        {
            if (!await accounts.AnyAsync(ct))
            {
                LogSetupOpen(FlareAuth.SetupPath);
            }

            return;
        }

        var errors = AdminAccounts.Validate(o.UserName, o.Password);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"Flare:Admin is invalid: {string.Join(" ", errors.Values)}");
        }

        if (await accounts.CreateFirstAsync(o.UserName, o.Password, ct))
        {
            LogCreated(o.UserName);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the first administrator '{UserName}' from configuration")]
    private partial void LogCreated(string userName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No administrator yet: open {SetupPath} in the browser to create one (or set Flare:Admin:Password)")]
    private partial void LogSetupOpen(string setupPath);
}
