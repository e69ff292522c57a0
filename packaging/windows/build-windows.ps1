# Build the Windows installer: PyInstaller bundle, then Inno Setup. Run from a checkout in PowerShell with the
# project installed (pip install -e ".[packaging]") and Inno Setup 6 (ISCC.exe) on PATH or in its default folder.
$ErrorActionPreference = "Stop"
$Root = Resolve-Path "$PSScriptRoot\..\.."
$Out = Join-Path $Root "packaging\out"
$Version = python -c "from importlib.metadata import version; print(version('snowml-desktop'))"
if ($LASTEXITCODE -ne 0) { throw "snowml-desktop is not installed in this Python: pip install -e .[packaging]" }

python "$Root\packaging\make_icons.py" "$Out\icons"
pyinstaller --noconfirm --log-level WARN --distpath "$Out\dist" --workpath "$Out\build" "$Root\packaging\snowml.spec"
$Reported = & "$Out\dist\snowml-desktop\snowml.exe" --version
if ($LASTEXITCODE -ne 0 -or $Reported -ne "snowml $Version") { throw "the bundled snowml.exe reports '$Reported'" }
# The windowed app has no console: wait for it and read its exit code (its one-line result is also in the log).
$env:QT_QPA_PLATFORM = "offscreen"
$SelfTest = Start-Process -FilePath "$Out\dist\snowml-desktop\snowml-desktop.exe" -ArgumentList "--self-test" `
  -Wait -PassThru -NoNewWindow
Remove-Item Env:QT_QPA_PLATFORM
if ($SelfTest.ExitCode -ne 0) { throw "the bundled app failed its self-test; see %LOCALAPPDATA%\snowml-desktop\Logs" }

$Iscc = (Get-Command ISCC.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" "$PSScriptRoot\snowml-desktop.iss"
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Write-Host "installer: $Out\snowml-desktop-$Version-setup.exe"
