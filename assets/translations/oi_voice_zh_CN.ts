<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AppState</name>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Listening…</source>
        <translation>正在聆听…</translation>
    </message>
    <message>
        <source>Transcribing…</source>
        <translation>正在识别…</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Running code…</source>
        <translation>正在运行代码…</translation>
    </message>
    <message>
        <source>Speaking…</source>
        <translation>正在朗读…</translation>
    </message>
    <message>
        <source>Waiting for your approval</source>
        <translation>等待你的批准</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>出错</translation>
    </message>
</context>
<context>
    <name>ApprovalDialog</name>
    <message>
        <source>Low risk: it reads, computes or makes new files; nothing known to be destructive.</source>
        <translation>低风险：只读取、计算或新建文件；没有已知的破坏性操作。</translation>
    </message>
    <message>
        <source>Medium risk: it changes files, installs software, uses the network, or does something the rater cannot check.</source>
        <translation>中风险：会修改文件、安装软件、访问网络，或做了风险评估无法检查的事。</translation>
    </message>
    <message>
        <source>High risk: it can destroy data or change the system. Read it before you run it.</source>
        <translation>高风险：可能破坏数据或更改系统。运行前请先看一遍。</translation>
    </message>
    <message>
        <source>Risk: %1</source>
        <translation>风险：%1</translation>
    </message>
    <message>
        <source>oi-voice: run this code?</source>
        <extracomment>(request id, Decision): the user&apos;s answer.</extracomment>
        <translation>oi-voice：运行这段代码吗？</translation>
    </message>
    <message>
        <source>Run this %1 code?</source>
        <translation>运行这段 %1 代码吗？</translation>
    </message>
    <message>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Reason for declining (optional; the model is told)</source>
        <translation>拒绝的原因（可不填；会告诉模型）</translation>
    </message>
    <message>
        <source>Always for this session (low risk; high risk always asks)</source>
        <translation>本次会话中一律允许（仅低风险；高风险总会询问）</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Decline</source>
        <translation>拒绝(&amp;D)</translation>
    </message>
</context>
<context>
    <name>Bridge</name>
    <message>
        <source>Opening the microphone and speaker…</source>
        <extracomment>Builds the Interpreter and the voice session (on the start-up thread); it may report progress with the callable it is given. Every voice event, delivered on the Qt thread. The app&apos;s state changed (an AppState). Start-up progress, in words (&quot;Loading the speech model…&quot;). The engine and the voice are up; typed chat and push-to-talk work. Start-up failed; the message says why (the window stays usable for settings). Hands-free listening was switched on or off. A problem the user should read that is not an event of the session (&quot;no microphone&quot;, &quot;still starting&quot;).</extracomment>
        <translation>正在打开麦克风和扬声器…</translation>
    </message>
    <message>
        <source>Loading the speech model…</source>
        <translation>正在加载语音识别模型…</translation>
    </message>
    <message>
        <source>Still starting up: try again in a moment.</source>
        <translation>还在启动中，请稍后再试。</translation>
    </message>
    <message>
        <source>Not started: %1. Check the settings (Ctrl+,).</source>
        <translation>未能启动：%1。请检查设置 (Ctrl+,)。</translation>
    </message>
    <message>
        <source>No language model is set up yet: choose one first.</source>
        <translation>还没有设置语言模型：请先选择一个。</translation>
    </message>
    <message>
        <source>A turn is still running: stop it first.</source>
        <translation>当前对话还在进行，请先停止。</translation>
    </message>
    <message>
        <source>The run could not be undone: %1</source>
        <translation>无法撤销这次运行：%1</translation>
    </message>
    <message>
        <source>Resetting the Python environment: everything installed into it goes…</source>
        <translation>正在重置 Python 环境：其中安装的所有内容都会被删除……</translation>
    </message>
    <message>
        <source>Python code runs in this program&apos;s own Python: there is no environment of its own to reset.</source>
        <translation>Python 代码在本程序自带的 Python 中运行：没有可重置的独立环境。</translation>
    </message>
    <message>
        <source>The Python environment was made again: %1</source>
        <translation>Python 环境已重新创建：%1</translation>
    </message>
    <message>
        <source>The Python environment could not be reset: %1</source>
        <translation>无法重置 Python 环境：%1</translation>
    </message>
    <message>
        <source>Hands-free needs a microphone.</source>
        <translation>免手持模式需要麦克风。</translation>
    </message>
    <message>
        <source>Hands-free stopped: %1</source>
        <translation>免手持模式已停止：%1</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>Type a request below, or hold {key} and say it.
Code the model writes waits for your OK before it runs.</source>
        <extracomment>Characters of output shown before &quot;Show all&quot;. Characters of one run&apos;s output the window keeps at most (the engine bounds what the model sees; this bounds what a runaway print costs the window). Widest an inline image is drawn. Lines of code shown before the card&apos;s code pane scrolls. What the empty conversation says.</extracomment>
        <translation>在下方输入你的请求，或按住 {key} 说出来。
模型写出的代码要经你同意后才会运行。</translation>
    </message>
    <message>
        <source>Writing…</source>
        <extracomment>The words of each run state&apos;s chip.</extracomment>
        <translation>正在编写…</translation>
    </message>
    <message>
        <source>Ready to run</source>
        <translation>可以运行</translation>
    </message>
    <message>
        <source>Waiting for approval</source>
        <translation>等待批准</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>正在运行…</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>You said</source>
        <extracomment>How a run ended, read from the last note the engine adds to its output.</extracomment>
        <translation>你说</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>Output: show or hide</source>
        <translation>输出：显示或隐藏</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>Show all</source>
        <translation>全部显示</translation>
    </message>
    <message>
        <source>Show all output</source>
        <translation>显示全部输出</translation>
    </message>
    <message>
        <source>Show all (%1 characters)</source>
        <extracomment>Characters received (including any beyond what is kept). The last piece received (the engine&apos;s note on how the run ended, if any).</extracomment>
        <translation>全部显示（%1 个字符）</translation>
    </message>
    <message>
        <source>%1 more characters were not kept</source>
        <translation>另有 %1 个字符未保留</translation>
    </message>
    <message>
        <source>Image the code drew</source>
        <translation>代码绘制的图像</translation>
    </message>
    <message>
        <source>%1 code</source>
        <extracomment>(request id, Decision): Run / Edit / Decline was clicked in the card. The 1-based line that is running, or None. The approval request this card shows (its id), while one is open.</extracomment>
        <translation>%1 代码</translation>
    </message>
    <message>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Run state</source>
        <translation>运行状态</translation>
    </message>
    <message>
        <source>Copy the code</source>
        <translation>复制代码</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the code to the clipboard</source>
        <translation>把代码复制到剪贴板</translation>
    </message>
    <message>
        <source>Risk</source>
        <translation>风险</translation>
    </message>
    <message>
        <source>Reason for declining</source>
        <translation>拒绝的原因</translation>
    </message>
    <message>
        <source>Reason to decline (optional)</source>
        <translation>拒绝原因（可不填）</translation>
    </message>
    <message>
        <source>Decline</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Decline: do not run the code</source>
        <translation>拒绝：不运行这段代码</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Edit the code before running it</source>
        <translation>运行前先编辑代码</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Run the code</source>
        <translation>运行这段代码</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Conversation</source>
        <extracomment>A block was added (for the app&apos;s log and the end-to-end test). A run&apos;s output ended (the OutputBlock). (request id, Decision): Run / Edit / Decline clicked in a code card.</extracomment>
        <translation>对话</translation>
    </message>
    <message>
        <source>How to start</source>
        <translation>如何开始</translation>
    </message>
    <message>
        <source>Setting up Python for code runs… (the first time only; a minute or so)</source>
        <translation>正在为运行代码准备 Python……（仅第一次，大约一分钟）</translation>
    </message>
    <message>
        <source>An image could not be shown: %1</source>
        <translation>无法显示图像：%1</translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message>
        <source>Restarting with the new settings…</source>
        <extracomment>The profile the app uses when none is named. The device and voice lists for the settings dialog, gathered off the Qt thread. The stored API key (or None), read off the Qt thread: the OS keyring can be slow.</extracomment>
        <translation>正在按新设置重新启动…</translation>
    </message>
    <message>
        <source>Reset the Python environment?</source>
        <translation>要重置 Python 环境吗？</translation>
    </message>
    <message>
        <source>Every package installed into the Python environment that code runs in is removed, and the environment is made again (about a minute).</source>
        <translation>运行代码所用的 Python 环境中安装的所有软件包都会被删除，然后重新创建该环境（大约一分钟）。</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>设置已保存到 %1</translation>
    </message>
    <message>
        <source>The settings could not be saved: %1</source>
        <translation>无法保存设置：%1</translation>
    </message>
    <message>
        <source>Profile %1: %2</source>
        <translation>配置文件 %1：%2</translation>
    </message>
    <message>
        <source>Switched to the %1 profile.</source>
        <translation>已切换到配置文件 %1。</translation>
    </message>
    <message>
        <source>Starting the engine…</source>
        <translation>正在启动引擎…</translation>
    </message>
    <message>
        <source>Loading the local model…</source>
        <translation>正在加载本地模型…</translation>
    </message>
</context>
<context>
    <name>GlobalHotkey</name>
    <message>
        <source>no X display (Wayland or none): the global hotkey is unavailable; hold %1 in the window or the mic button instead</source>
        <extracomment>X servers repeat a held key as release+press pairs that Qt does not always mark as auto-repeat; a release followed by a press within this many ms is such a repeat. Raw reports from pynput&apos;s thread; queued to the GUI thread, then debounced. Esc went down anywhere on the desktop (the voice HUD stops on it; it never has the keyboard).</extracomment>
        <translation>没有 X 显示（Wayland 或无显示）：无法使用全局快捷键；请在窗口中按住 %1，或按住麦克风按钮</translation>
    </message>
    <message>
        <source>the global hotkey is unavailable (%1); use %2 in the window</source>
        <translation>无法使用全局快捷键（%1）；请在窗口中使用 %2</translation>
    </message>
    <message>
        <source>%1 cannot be a global hotkey; it still works in the window</source>
        <translation>%1 不能用作全局快捷键；在窗口中仍然可用</translation>
    </message>
    <message>
        <source>the global hotkey could not start (%1); use %2 in the window</source>
        <translation>全局快捷键无法启动（%1）；请在窗口中使用 %2</translation>
    </message>
</context>
<context>
    <name>LevelMeter</name>
    <message>
        <source>Microphone level</source>
        <extracomment>Window title (what window managers and xdotool see). Milliseconds the HUD stays after the app is idle again, so the last words can be read. Pixels between the pill and the bottom of the screen&apos;s available area. Widest the recognised words may make the pill. The dot&apos;s colour per state: red while the microphone is open, as recording lights are.</extracomment>
        <translation>麦克风音量</translation>
    </message>
    <message>
        <source>%1 percent</source>
        <translation>百分之 %1</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>transcript %1 s</source>
        <extracomment>A press of the mic button shorter than this is a click (hands-free on/off), not a hold.</extracomment>
        <translation>识别 %1 秒</translation>
    </message>
    <message>
        <source>first token %1 s</source>
        <translation>首个词元 %1 秒</translation>
    </message>
    <message>
        <source>first audio %1 s</source>
        <translation>首段语音 %1 秒</translation>
    </message>
    <message>
        <source>After you spoke: %1</source>
        <translation>说完之后：%1</translation>
    </message>
    <message>
        <source>Starting…</source>
        <extracomment>The user asked for the settings dialog. The user picked another profile. The first-run screen&apos;s &quot;use the local model&quot;. Quit was chosen (the app shuts the engine down, then exits). Esc in the window (the app stops the voice with it while the HUD shows). Hide to the tray on close instead of quitting (set when a tray is shown). What the banner and the status line say, recomputed when the language changes.</extracomment>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Show window</source>
        <translation>显示窗口</translation>
    </message>
    <message>
        <source>Push to talk (%1)</source>
        <translation>按住说话（%1）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Undo the last run</source>
        <translation>撤销上一次运行</translation>
    </message>
    <message>
        <source>Mute voice</source>
        <translation>静音</translation>
    </message>
    <message>
        <source>Auto-run</source>
        <translation>自动运行</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>&amp;Profile</source>
        <translation>配置文件(&amp;P)</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>Use the local model</source>
        <translation>使用本地模型</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Ask something, or hold the talk key… (Enter sends, Shift+Enter: new line)</source>
        <translation>问点什么，或按住说话键…（Enter 发送，Shift+Enter 换行）</translation>
    </message>
    <message>
        <source>Stop speaking, the reply and the running code (Ctrl+.)</source>
        <translation>停止朗读、回复和正在运行的代码（Ctrl+.）</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Voice latency</source>
        <translation>语音延迟</translation>
    </message>
    <message>
        <source>Seconds from the end of your speech to the transcript, the model&apos;s first token and the first spoken audio</source>
        <translation>从你说完到得出识别结果、模型输出首个词元和开始朗读所用的秒数</translation>
    </message>
    <message>
        <source>Mic</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <source>Microphone level</source>
        <translation>麦克风音量</translation>
    </message>
    <message>
        <source>No language model is set up yet. The local model runs on this computer, with no account and no network.</source>
        <translation>还没有设置语言模型。本地模型在这台电脑上运行，不需要账号，也不需要联网。</translation>
    </message>
    <message>
        <source>No language model is set up yet: to run one on this computer with no account, install the local model (%1), or choose a hosted model in Settings.</source>
        <translation>还没有设置语言模型：要在这台电脑上免账号运行，请安装本地模型 (%1)，或在设置中选择托管模型。</translation>
    </message>
    <message>
        <source>Welcome to oi-voice.</source>
        <translation>欢迎使用 oi-voice。</translation>
    </message>
    <message>
        <source>No model set up yet</source>
        <translation>尚未设置模型</translation>
    </message>
    <message>
        <source>Could not start: %1. Check the settings (Ctrl+,).</source>
        <translation>无法启动：%1。请检查设置（Ctrl+,）。</translation>
    </message>
    <message>
        <source>Edit what you said, then press Enter to send it.</source>
        <translation>修改你说的话，然后按 Enter 发送。</translation>
    </message>
    <message>
        <source>Nothing heard (%1).</source>
        <translation>没有听到声音（%1）。</translation>
    </message>
    <message>
        <source>Approved in the chat</source>
        <translation>已在对话中批准</translation>
    </message>
    <message>
        <source>Approved in the dialog</source>
        <translation>已在对话框中批准</translation>
    </message>
    <message>
        <source>Declined in the chat (%1)</source>
        <translation>已在对话中拒绝（%1）</translation>
    </message>
    <message>
        <source>Declined in the dialog (%1)</source>
        <translation>已在对话框中拒绝（%1）</translation>
    </message>
    <message>
        <source>That request was no longer open.</source>
        <translation>这个请求已经结束了。</translation>
    </message>
    <message>
        <source>Approved by voice</source>
        <translation>已用语音批准</translation>
    </message>
    <message>
        <source>Declined by voice</source>
        <translation>已用语音拒绝</translation>
    </message>
    <message>
        <source>The turn ended before an answer</source>
        <translation>还没回答，这一轮就结束了</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
</context>
<context>
    <name>MicButton</name>
    <message>
        <source>Listening (click to stop)</source>
        <extracomment>Hands-free listening is on (the text says how to stop it).</extracomment>
        <translation>正在聆听（点击停止）</translation>
    </message>
    <message>
        <source>Hold to talk</source>
        <translation>按住说话</translation>
    </message>
    <message>
        <source>Hold to talk; click for hands-free</source>
        <translation>按住说话；单击进入免手持模式</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>The server address must start with http:// or https://, for example %1</source>
        <translation>服务器地址必须以 http:// 或 https:// 开头，例如 %1</translation>
    </message>
    <message>
        <source>Press the key to hold while you talk.</source>
        <translation>请按下说话时要按住的键。</translation>
    </message>
    <message>
        <source>Choose one key without Ctrl, Alt, Shift or Meta: it is held down while you talk.</source>
        <translation>请选择一个不带 Ctrl、Alt、Shift 或 Meta 的键：说话时按住它。</translation>
    </message>
    <message>
        <source>oi-voice settings</source>
        <extracomment>Emitted after the user confirmed (True) or refused (False) turning auto-run on. A field&apos;s action button was clicked (the setting&apos;s key): the caller does the work, off the Qt thread. The profile whose key the key field shows (another profile&apos;s key is not read here). Field name -&gt; its editor, in the schema&apos;s order. The group boxes by (English) group name, and the field labels by field name.</extracomment>
        <translation>oi-voice 设置</translation>
    </message>
    <message>
        <source>&amp;Profile:</source>
        <translation>配置文件(&amp;P)：</translation>
    </message>
    <message>
        <source>Settings are saved into this profile, and the app uses it.</source>
        <translation>设置会保存到这个配置文件，应用也会使用它。</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Kept in %1, never in the profile file.</source>
        <translation>保存在%1中，绝不会写入配置文件。</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API 密钥(&amp;K)：</translation>
    </message>
    <message>
        <source>Turn on auto-run?</source>
        <translation>开启自动运行？</translation>
    </message>
    <message>
        <source>Run without asking</source>
        <translation>不询问直接运行</translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation>选择文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Piper voice</source>
        <translation>Piper 语音</translation>
    </message>
    <message>
        <source>Piper voices (*.onnx)</source>
        <translation>Piper 语音 (*.onnx)</translation>
    </message>
    <message>
        <source>Leave empty to keep the key stored for %1</source>
        <translation>留空则保留为 %1 保存的密钥</translation>
    </message>
    <message>
        <source>Code that %1</source>
        <translation>%1的代码</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>starting…</source>
        <translation>正在启动…</translation>
    </message>
</context>
<context>
    <name>VoiceHud</name>
    <message>
        <source>Voice status</source>
        <extracomment>The user asked to stop (the pill&apos;s Stop button, or Esc). The window whose being active makes a spoken reply need no HUD (set by the app). Whether the current turn began with listening (the HUD then stays for all of it).</extracomment>
        <translation>语音状态</translation>
    </message>
    <message>
        <source>Recognised words</source>
        <translation>识别出的文字</translation>
    </message>
    <message>
        <source>Stop (Esc)</source>
        <translation>停止（Esc）</translation>
    </message>
    <message>
        <source>Stop listening and speaking</source>
        <translation>停止聆听和朗读</translation>
    </message>
    <message>
        <source>“%1” — edit it in the window</source>
        <translation>“%1”——请在窗口中修改</translation>
    </message>
    <message>
        <source>Nothing heard</source>
        <translation>没有听到声音</translation>
    </message>
    <message>
        <source>Something went wrong: see the window</source>
        <translation>出了点问题：请查看窗口</translation>
    </message>
    <message>
        <source>Release %1 to send · Esc to stop</source>
        <translation>松开 %1 发送 · Esc 停止</translation>
    </message>
    <message>
        <source>Say yes or no</source>
        <translation>请说“是”或“不”</translation>
    </message>
    <message>
        <source>Speak now · Esc to stop</source>
        <translation>请说话 · Esc 停止</translation>
    </message>
</context>
<context>
    <name>risk</name>
    <message>
        <source>changes or overwrites files in the working folder</source>
        <extracomment>Kinds of medium effect; the user may let &quot;Always for this session&quot; cover some of them. (Their words are marked for the desktop app&apos;s translations: the settings dialog shows them.)</extracomment>
        <translation>修改或覆盖工作文件夹中的文件</translation>
    </message>
    <message>
        <source>changes files outside the working folder</source>
        <translation>修改工作文件夹以外的文件</translation>
    </message>
    <message>
        <source>uses the network</source>
        <translation>使用网络</translation>
    </message>
    <message>
        <source>installs packages</source>
        <translation>安装软件包</translation>
    </message>
    <message>
        <source>stops other programs</source>
        <translation>停止其他程序</translation>
    </message>
    <message>
        <source>changes file permissions</source>
        <translation>更改文件权限</translation>
    </message>
    <message>
        <source>changes a git repository</source>
        <translation>修改 git 仓库</translation>
    </message>
    <message>
        <source>runs code or commands the rater cannot check</source>
        <translation>运行风险评估无法检查的代码或命令</translation>
    </message>
    <message>
        <source>changes system settings or reads secrets</source>
        <translation>更改系统设置或读取密钥</translation>
    </message>
</context>
<context>
    <name>settings</name>
    <message>
        <source>&quot;Always for this session&quot; runs low-risk code without asking. Code of medium risk whose every effect is ticked here runs without asking too: it can change your files. High-risk code (deleting files, rewriting history ...) always asks.</source>
        <extracomment>Who reads a setting: the Interpreter (by attribute path), ``oi`` (terminal), the voice layer (``voice.*``: VoiceConfig), the desktop app alone (``app``: through AppSettings), or nobody (Open Interpreter keys accepted so its profiles load). How a flag sets a value: ``value`` takes an argument; ``switch`` turns a bool on; ``negatable`` also has a ``--no-`` form; ``off`` turns a bool off. Which front ends offer a setting&apos;s flags. A :attr:`Setting.default` that leaves the value to the engine. The label, or a check box&apos;s text; ``&amp;`` marks the keyboard shortcut. The group box it goes into: &quot;Model&quot;, &quot;Voice&quot; or &quot;Behaviour&quot;. The :class:`~oi_voice.app_settings.AppSettings` field (default: the key&apos;s last part). An editable drop-down offering these (any text may be typed). For a ``choice`` setting: the words shown for each of its choices, in order. A drop-down of names the caller gathers at run time (&quot;voices&quot;, &quot;input_devices&quot;, &quot;output_devices&quot;). The entry that means &quot;not set&quot; (None). A number&apos;s range; one below ``minimum`` shows ``none_text`` and means None. ``key``: one key to hold (push-to-talk); ``folder``: a drop-down with a Browse button. ``checklist``: a list of ticks, one per entry of ``options`` (a ``list[str]`` setting). ``language_file``: a file for the spoken language, kept in a ``dict`` setting by language code. What the dialog shows when the profile does not set the key (default: the setting&apos;s default). Place in its group: fields go by (order, declaration order). A button beside the field with this text; the dialog emits ``action_requested(key)`` when clicked. The profile key: an attribute path of the Interpreter (``llm.model``), a terminal key (``multi_line``) or a voice key (``voice.language``). None (YAML null) is allowed. Command-line flag names, short first (Open Interpreter&apos;s names for ``oi``). The flag&apos;s help when it differs from :attr:`help`. The argparse ``dest`` (default: the long flag without dashes). An environment variable that sets it (above profiles, below flags). Shown as ``***`` when settings are described. Computes the default when it depends on the machine (the system locale ...); wins over ``default``. Dotted prefixes (``llm``, ``voice``, ``computer``): a profile may nest keys under them. The settings dialog&apos;s groups, top to bottom (a group not listed comes last). Models offered in the dialog&apos;s model box (any litellm model name can be typed). faster-whisper models offered (a model folder can be browsed for); unset follows the language. What the dialog says beside the &quot;Always also runs&quot; ticks.</extracomment>
        <translation>“本次会话中一律允许”会直接运行低风险代码。中风险代码如果它的每种影响都在这里勾选了，也会直接运行：它可能修改你的文件。高风险代码（删除文件、改写历史……）总会询问。</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <extracomment>Spoken languages offered (any Whisper language code can be typed); auto detects among voice.languages. The places Python code may run in (computer.python_env), besides a folder. The API base shown as an example. Every setting. Open Interpreter&apos;s flag names and profile keys must not change.</extracomment>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>A litellm model name; &quot;local&quot; runs the bundled model on this computer.</source>
        <translation>litellm 模型名称；“local”表示在这台电脑上运行内置模型。</translation>
    </message>
    <message>
        <source>API &amp;base:</source>
        <translation>API 地址(&amp;B)：</translation>
    </message>
    <message>
        <source>An OpenAI-compatible server (Ollama, LM Studio, llama.cpp); empty: the provider&apos;s.</source>
        <translation>兼容 OpenAI 的服务器（Ollama、LM Studio、llama.cpp）；留空则使用服务商的地址。</translation>
    </message>
    <message>
        <source>Run code without asking</source>
        <translation>不询问直接运行代码</translation>
    </message>
    <message>
        <source>&quot;Always&quot; also runs:</source>
        <translation>“一律允许”还包括：</translation>
    </message>
    <message>
        <source>P&amp;ython for code:</source>
        <translation>代码所用的 Python(&amp;Y)：</translation>
    </message>
    <message>
        <source>Reset…</source>
        <translation>重置…</translation>
    </message>
    <message>
        <source>auto: the installed app runs code in a Python environment of its own, where pip installs packages that stay; app: this program&apos;s Python; user: that environment; or a folder for it. Reset removes what was installed there.</source>
        <translation>auto：安装版应用在独立的 Python 环境中运行代码，pip 安装的软件包会一直保留；app：本程序自带的 Python；user：上述独立环境；也可以填写一个文件夹作为该环境。“重置”会删除其中安装的内容。</translation>
    </message>
    <message>
        <source>&amp;Speech model:</source>
        <translation>语音识别模型(&amp;S)：</translation>
    </message>
    <message>
        <source>(follows the language)</source>
        <translation>（跟随语言）</translation>
    </message>
    <message>
        <source>A faster-whisper size, or a folder holding a CTranslate2 Whisper model.</source>
        <translation>faster-whisper 模型大小，或存放 CTranslate2 Whisper 模型的文件夹。</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>(system language)</source>
        <translation>（系统语言）</translation>
    </message>
    <message>
        <source>Push to &amp;talk:</source>
        <translation>按键说话(&amp;T)：</translation>
    </message>
    <message>
        <source>Speech &amp;engine:</source>
        <translation>语音引擎(&amp;E)：</translation>
    </message>
    <message>
        <source>Automatic (Piper where it has a voice)</source>
        <translation>自动（有 Piper 语音时用 Piper）</translation>
    </message>
    <message>
        <source>Piper</source>
        <translation>Piper</translation>
    </message>
    <message>
        <source>System voice (pyttsx3)</source>
        <translation>系统语音（pyttsx3）</translation>
    </message>
    <message>
        <source>&amp;Piper voice:</source>
        <translation>Piper 语音(&amp;P)：</translation>
    </message>
    <message>
        <source>built in for English; else a .onnx voice or its folder</source>
        <translation>英语已内置；其他语言请选择 .onnx 语音或其文件夹</translation>
    </message>
    <message>
        <source>A Piper voice (.onnx with its .onnx.json) for the spoken language.</source>
        <translation>所说语言的 Piper 语音（.onnx 及其 .onnx.json）。</translation>
    </message>
    <message>
        <source>System &amp;voice:</source>
        <translation>系统语音(&amp;V)：</translation>
    </message>
    <message>
        <source>(default)</source>
        <translation>（默认）</translation>
    </message>
    <message>
        <source>&amp;Rate:</source>
        <translation>语速(&amp;R)：</translation>
    </message>
    <message>
        <source> words/min</source>
        <translation> 词/分钟</translation>
    </message>
    <message>
        <source>Say what will run and listen for yes or no</source>
        <translation>说出将要运行的内容，并听取“是”或“不”</translation>
    </message>
    <message>
        <source>&amp;Echo cancellation:</source>
        <translation>回声消除(&amp;E)：</translation>
    </message>
    <message>
        <source>Automatic (on unless you use headphones)</source>
        <translation>自动（除非使用耳机，否则开启）</translation>
    </message>
    <message>
        <source>On</source>
        <translation>开启</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Removes the app&apos;s own voice from the microphone, so that hands-free works on loudspeakers and you can interrupt it by speaking.</source>
        <translation>从麦克风中去除应用自己的声音：免提模式在扬声器上也能正常使用，你也可以直接说话打断它。</translation>
    </message>
    <message>
        <source>&amp;Microphone:</source>
        <translation>麦克风(&amp;M)：</translation>
    </message>
    <message>
        <source>(system default)</source>
        <translation>（系统默认）</translation>
    </message>
    <message>
        <source>Spea&amp;ker:</source>
        <translation>扬声器(&amp;K)：</translation>
    </message>
    <message>
        <source>Let me edit what I said before it is sent</source>
        <translation>发送前让我修改说过的话</translation>
    </message>
    <message>
        <source>&amp;Appearance:</source>
        <translation>外观(&amp;A)：</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>The window&apos;s colours: as the desktop&apos;s, or always light or dark.</source>
        <translation>窗口的颜色：跟随桌面，或始终为浅色或深色。</translation>
    </message>
    <message>
        <source>&amp;Display language:</source>
        <translation>界面语言(&amp;D)：</translation>
    </message>
    <message>
        <source>The language of the window, the dialogs and the tray menu; it changes at once.</source>
        <translation>窗口、对话框和托盘菜单的语言；更改后立即生效。</translation>
    </message>
    <message>
        <source>Model</source>
        <extracomment>The dialog&apos;s group boxes (the schema&apos;s DialogField.group), marked for translation.</extracomment>
        <translation>模型</translation>
    </message>
    <message>
        <source>Voice</source>
        <translation>语音</translation>
    </message>
    <message>
        <source>Behaviour</source>
        <translation>行为</translation>
    </message>
</context>
</TS>
