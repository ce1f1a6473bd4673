using Flare.Data;
using Flare.Data.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Flare.Web.Security;

/// <summary>The outcome of a sign-in attempt.</summary>
public enum SignInResult
{
    Succeeded,

    /// <summary>Unknown user or wrong password: the caller is not told which.</summary>
    Failed,

    /// <summary>Too many failures; <see cref="SignInAttempt.LockedUntilUtc"/> says until when.</summary>
    LockedOut,
}

public sealed record SignInAttempt(SignInResult Result, string? UserName = null, DateTime? LockedUntilUtc = null);

/// <summary>
/// Administrator accounts: the first one (from configuration or the one-time setup page), password
/// checks with PBKDF2 (<see cref="PasswordHasher{TUser}"/>), and the lockout after repeated failures.
/// </summary>
public sealed class AdminAccounts(IDbContextFactory<FlareDbContext> dbFactory, IOptions<AdminOptions> options, TimeProvider time)
{
    /// <summary>Shortest password accepted.</summary>
    public const int MinPasswordLength = 10;

    private static readonly PasswordHasher<AdminUserEntity> Hasher = new();

    // A hash to verify against when the user does not exist, so that the answer takes as long either way.
    private static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword(new AdminUserEntity(), Guid.NewGuid().ToString()));

    private volatile bool _anyAdmin;

    /// <summary>True once an administrator exists (cached after the first true).</summary>
    public async Task<bool> AnyAsync(CancellationToken ct = default)
    {
        if (_anyAdmin)
        {
            return true;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return _anyAdmin = await db.AdminUsers.AnyAsync(ct);
    }

    /// <summary>Why a user name and password cannot be used, per field; empty when they can.</summary>
    public static Dictionary<string, string> Validate(string? userName, string? password)
    {
        var errors = new Dictionary<string, string>();
        if (string.IsNullOrWhiteSpace(userName))
        {
            errors["userName"] = "Enter a user name.";
        }
        else if (userName.Trim().Length > 100)
        {
            errors["userName"] = "A user name has at most 100 characters.";
        }

        if (string.IsNullOrEmpty(password) || password.Length < MinPasswordLength)
        {
            errors["password"] = $"A password has at least {MinPasswordLength} characters.";
        }
        else if (password.Length > 512)
        {
            errors["password"] = "A password has at most 512 characters.";
        }

        return errors;
    }

    /// <summary>
    /// Creates the first administrator, in one transaction that first checks there is none: once one
    /// exists this refuses (returns false), so the setup page cannot be used twice.
    /// </summary>
    public async Task<bool> CreateFirstAsync(string userName, string password, CancellationToken ct = default)
    {
        if (Validate(userName, password).Count > 0)
        {
            throw new ArgumentException("Invalid user name or password; call Validate first.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginSerializedTransactionAsync("first-admin", ct);
        if (await db.AdminUsers.AnyAsync(ct))
        {
            _anyAdmin = true;
            return false;
        }

        var user = new AdminUserEntity { UserName = userName.Trim(), CreatedUtc = time.GetUtcNow().UtcDateTime };
        user.PasswordHash = Hasher.HashPassword(user, password);
        db.AdminUsers.Add(user);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        _anyAdmin = true;
        return true;
    }

    /// <summary>Checks a password, counting failures and locking the account after too many.</summary>
    public async Task<SignInAttempt> SignInAsync(string? userName, string? password, CancellationToken ct = default)
    {
        var name = userName?.Trim() ?? "";
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = name.Length == 0 ? null : await db.AdminUsers.SingleOrDefaultAsync(u => u.UserName == name, ct);
        if (user is null)
        {
            Hasher.VerifyHashedPassword(new AdminUserEntity(), DummyHash.Value, password ?? "");
            return new SignInAttempt(SignInResult.Failed);
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (user.LockedUntilUtc is { } until && until > now)
        {
            return new SignInAttempt(SignInResult.LockedOut, user.UserName, until);
        }

        var verdict = Hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? "");
        if (verdict == PasswordVerificationResult.Failed)
        {
            user.FailedSignIns++;
            if (user.FailedSignIns >= options.Value.MaxFailedSignIns)
            {
                user.LockedUntilUtc = now.AddMinutes(options.Value.LockoutMinutes);
                user.FailedSignIns = 0;
            }

            await db.SaveChangesAsync(ct);
            return user.LockedUntilUtc is { } locked && locked > now
                ? new SignInAttempt(SignInResult.LockedOut, user.UserName, locked)
                : new SignInAttempt(SignInResult.Failed);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = Hasher.HashPassword(user, password!);
        }

        user.FailedSignIns = 0;
        user.LockedUntilUtc = null;
        user.LastSignInUtc = now;
        await db.SaveChangesAsync(ct);
        return new SignInAttempt(SignInResult.Succeeded, user.UserName);
    }
}
