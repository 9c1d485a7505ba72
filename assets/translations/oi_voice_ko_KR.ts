<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en">
<context>
    <name>AppState</name>
    <message>
        <source>Ready</source>
        <translation>준비됨</translation>
    </message>
    <message>
        <source>Listening…</source>
        <translation>듣는 중…</translation>
    </message>
    <message>
        <source>Transcribing…</source>
        <translation>받아쓰는 중…</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>생각하는 중…</translation>
    </message>
    <message>
        <source>Running code…</source>
        <translation>코드 실행 중…</translation>
    </message>
    <message>
        <source>Speaking…</source>
        <translation>말하는 중…</translation>
    </message>
    <message>
        <source>Waiting for your approval</source>
        <translation>승인을 기다리는 중</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>오류</translation>
    </message>
</context>
<context>
    <name>ApprovalDialog</name>
    <message>
        <source>Low risk: it reads, computes or makes new files; nothing known to be destructive.</source>
        <translation>위험 낮음: 파일을 읽거나 계산하거나 새 파일을 만듭니다. 알려진 파괴적인 작업은 없습니다.</translation>
    </message>
    <message>
        <source>Medium risk: it changes files, installs software, uses the network, or does something the rater cannot check.</source>
        <translation>위험 보통: 파일을 바꾸거나 소프트웨어를 설치하거나 네트워크를 사용하거나, 위험 평가로 확인할 수 없는 작업을 합니다.</translation>
    </message>
    <message>
        <source>High risk: it can destroy data or change the system. Read it before you run it.</source>
        <translation>위험 높음: 데이터를 지우거나 시스템을 바꿀 수 있습니다. 실행하기 전에 읽어 보세요.</translation>
    </message>
    <message>
        <source>Risk: %1</source>
        <translation>위험도: %1</translation>
    </message>
    <message>
        <source>oi-voice: run this code?</source>
        <extracomment>(request id, Decision): the user&apos;s answer.</extracomment>
        <translation>oi-voice: 이 코드를 실행할까요?</translation>
    </message>
    <message>
        <source>Run this %1 code?</source>
        <translation>이 %1 코드를 실행할까요?</translation>
    </message>
    <message>
        <source>code</source>
        <translation>코드</translation>
    </message>
    <message>
        <source>Reason for declining (optional; the model is told)</source>
        <translation>거절 이유 (선택 사항, 모델에게 전달됩니다)</translation>
    </message>
    <message>
        <source>Always for this session (low risk; high risk always asks)</source>
        <translation>이번 세션 동안 항상 허용 (위험 낮음만, 위험 높음은 항상 묻습니다)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>실행(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>편집(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Decline</source>
        <translation>거절(&amp;D)</translation>
    </message>
</context>
<context>
    <name>Bridge</name>
    <message>
        <source>Opening the microphone and speaker…</source>
        <extracomment>Builds the Interpreter and the voice session (on the start-up thread); it may report progress with the callable it is given. Every voice event, delivered on the Qt thread. The app&apos;s state changed (an AppState). Start-up progress, in words (&quot;Loading the speech model…&quot;). The engine and the voice are up; typed chat and push-to-talk work. Start-up failed; the message says why (the window stays usable for settings). Hands-free listening was switched on or off. A problem the user should read that is not an event of the session (&quot;no microphone&quot;, &quot;still starting&quot;).</extracomment>
        <translation>마이크와 스피커를 여는 중…</translation>
    </message>
    <message>
        <source>Loading the speech model…</source>
        <translation>음성 인식 모델을 불러오는 중…</translation>
    </message>
    <message>
        <source>Still starting up: try again in a moment.</source>
        <translation>아직 시작하는 중입니다. 잠시 후 다시 시도하세요.</translation>
    </message>
    <message>
        <source>Not started: %1. Check the settings (Ctrl+,).</source>
        <translation>시작하지 못했습니다: %1. 설정을 확인하세요 (Ctrl+,).</translation>
    </message>
    <message>
        <source>No language model is set up yet: choose one first.</source>
        <translation>아직 언어 모델이 설정되지 않았습니다. 먼저 하나를 선택하세요.</translation>
    </message>
    <message>
        <source>A turn is still running: stop it first.</source>
        <translation>아직 진행 중인 대화가 있습니다. 먼저 멈추세요.</translation>
    </message>
    <message>
        <source>The run could not be undone: %1</source>
        <translation>실행을 되돌릴 수 없습니다: %1</translation>
    </message>
    <message>
        <source>Resetting the Python environment: everything installed into it goes…</source>
        <translation>Python 환경을 초기화하는 중: 설치한 모든 것이 삭제됩니다…</translation>
    </message>
    <message>
        <source>Python code runs in this program&apos;s own Python: there is no environment of its own to reset.</source>
        <translation>Python 코드는 이 프로그램에 들어 있는 Python에서 실행됩니다. 초기화할 별도 환경이 없습니다.</translation>
    </message>
    <message>
        <source>The Python environment was made again: %1</source>
        <translation>Python 환경을 다시 만들었습니다: %1</translation>
    </message>
    <message>
        <source>The Python environment could not be reset: %1</source>
        <translation>Python 환경을 초기화하지 못했습니다: %1</translation>
    </message>
    <message>
        <source>Hands-free needs a microphone.</source>
        <translation>핸즈프리에는 마이크가 필요합니다.</translation>
    </message>
    <message>
        <source>Hands-free stopped: %1</source>
        <translation>핸즈프리가 멈췄습니다: %1</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>Type a request below, or hold {key} and say it.
Code the model writes waits for your OK before it runs.</source>
        <extracomment>Characters of output shown before &quot;Show all&quot;. Characters of one run&apos;s output the window keeps at most (the engine bounds what the model sees; this bounds what a runaway print costs the window). Widest an inline image is drawn. Lines of code shown before the card&apos;s code pane scrolls. What the empty conversation says.</extracomment>
        <translation>아래에 요청을 입력하거나 {key} 키를 누른 채 말하세요.
모델이 작성한 코드는 사용자가 승인해야 실행됩니다.</translation>
    </message>
    <message>
        <source>Writing…</source>
        <extracomment>The words of each run state&apos;s chip.</extracomment>
        <translation>작성 중…</translation>
    </message>
    <message>
        <source>Ready to run</source>
        <translation>실행 준비됨</translation>
    </message>
    <message>
        <source>Waiting for approval</source>
        <translation>승인 대기 중</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>실행 중…</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>완료</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>거절됨</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>실패</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <source>You said</source>
        <extracomment>How a run ended, read from the last note the engine adds to its output.</extracomment>
        <translation>내가 한 말</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>어시스턴트</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>오류</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>알림</translation>
    </message>
    <message>
        <source>Output: show or hide</source>
        <translation>출력: 보이기 또는 숨기기</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>출력</translation>
    </message>
    <message>
        <source>Show all</source>
        <translation>모두 보기</translation>
    </message>
    <message>
        <source>Show all output</source>
        <translation>출력 모두 보기</translation>
    </message>
    <message>
        <source>Show all (%1 characters)</source>
        <extracomment>Characters received (including any beyond what is kept). The last piece received (the engine&apos;s note on how the run ended, if any).</extracomment>
        <translation>모두 보기 (%1자)</translation>
    </message>
    <message>
        <source>%1 more characters were not kept</source>
        <translation>나머지 %1자는 보관되지 않았습니다</translation>
    </message>
    <message>
        <source>Image the code drew</source>
        <translation>코드가 그린 이미지</translation>
    </message>
    <message>
        <source>%1 code</source>
        <extracomment>(request id, Decision): Run / Edit / Decline was clicked in the card. The 1-based line that is running, or None. The approval request this card shows (its id), while one is open.</extracomment>
        <translation>%1 코드</translation>
    </message>
    <message>
        <source>code</source>
        <translation>코드</translation>
    </message>
    <message>
        <source>Run state</source>
        <translation>실행 상태</translation>
    </message>
    <message>
        <source>Copy the code</source>
        <translation>코드 복사</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>복사</translation>
    </message>
    <message>
        <source>Copy the code to the clipboard</source>
        <translation>코드를 클립보드에 복사합니다</translation>
    </message>
    <message>
        <source>Risk</source>
        <translation>위험도</translation>
    </message>
    <message>
        <source>Reason for declining</source>
        <translation>거절 이유</translation>
    </message>
    <message>
        <source>Reason to decline (optional)</source>
        <translation>거절 이유 (선택 사항)</translation>
    </message>
    <message>
        <source>Decline</source>
        <translation>거절</translation>
    </message>
    <message>
        <source>Decline: do not run the code</source>
        <translation>거절: 코드를 실행하지 않습니다</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>편집</translation>
    </message>
    <message>
        <source>Edit the code before running it</source>
        <translation>실행하기 전에 코드를 편집합니다</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>실행</translation>
    </message>
    <message>
        <source>Run the code</source>
        <translation>코드를 실행합니다</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>복사됨</translation>
    </message>
    <message>
        <source>Conversation</source>
        <extracomment>A block was added (for the app&apos;s log and the end-to-end test). A run&apos;s output ended (the OutputBlock). (request id, Decision): Run / Edit / Decline clicked in a code card.</extracomment>
        <translation>대화</translation>
    </message>
    <message>
        <source>How to start</source>
        <translation>시작하는 방법</translation>
    </message>
    <message>
        <source>Setting up Python for code runs… (the first time only; a minute or so)</source>
        <translation>코드 실행용 Python을 준비하는 중… (처음 한 번만, 1분 정도)</translation>
    </message>
    <message>
        <source>An image could not be shown: %1</source>
        <translation>이미지를 표시할 수 없습니다: %1</translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message>
        <source>Restarting with the new settings…</source>
        <extracomment>The profile the app uses when none is named. The device and voice lists for the settings dialog, gathered off the Qt thread. The stored API key (or None), read off the Qt thread: the OS keyring can be slow.</extracomment>
        <translation>새 설정으로 다시 시작하는 중…</translation>
    </message>
    <message>
        <source>Reset the Python environment?</source>
        <translation>Python 환경을 초기화할까요?</translation>
    </message>
    <message>
        <source>Every package installed into the Python environment that code runs in is removed, and the environment is made again (about a minute).</source>
        <translation>코드를 실행하는 Python 환경에 설치한 패키지가 모두 삭제되고 환경을 다시 만듭니다(1분 정도).</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>초기화</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>설정을 %1에 저장했습니다</translation>
    </message>
    <message>
        <source>The settings could not be saved: %1</source>
        <translation>설정을 저장할 수 없습니다: %1</translation>
    </message>
    <message>
        <source>Profile %1: %2</source>
        <translation>프로필 %1: %2</translation>
    </message>
    <message>
        <source>Switched to the %1 profile.</source>
        <translation>%1 프로필로 바꿨습니다.</translation>
    </message>
    <message>
        <source>Starting the engine…</source>
        <translation>엔진을 시작하는 중…</translation>
    </message>
    <message>
        <source>Loading the local model…</source>
        <translation>로컬 모델을 불러오는 중…</translation>
    </message>
</context>
<context>
    <name>GlobalHotkey</name>
    <message>
        <source>no X display (Wayland or none): the global hotkey is unavailable; hold %1 in the window or the mic button instead</source>
        <extracomment>X servers repeat a held key as release+press pairs that Qt does not always mark as auto-repeat; a release followed by a press within this many ms is such a repeat. Raw reports from pynput&apos;s thread; queued to the GUI thread, then debounced. Esc went down anywhere on the desktop (the voice HUD stops on it; it never has the keyboard).</extracomment>
        <translation>X 디스플레이가 없습니다(Wayland 또는 없음). 전역 단축키를 쓸 수 없으니 창에서 %1 키나 마이크 버튼을 누르고 있으세요</translation>
    </message>
    <message>
        <source>the global hotkey is unavailable (%1); use %2 in the window</source>
        <translation>전역 단축키를 쓸 수 없습니다(%1). 창에서 %2 키를 사용하세요</translation>
    </message>
    <message>
        <source>%1 cannot be a global hotkey; it still works in the window</source>
        <translation>%1 키는 전역 단축키로 쓸 수 없습니다. 창에서는 계속 작동합니다</translation>
    </message>
    <message>
        <source>the global hotkey could not start (%1); use %2 in the window</source>
        <translation>전역 단축키를 시작할 수 없습니다(%1). 창에서 %2 키를 사용하세요</translation>
    </message>
</context>
<context>
    <name>LevelMeter</name>
    <message>
        <source>Microphone level</source>
        <extracomment>Window title (what window managers and xdotool see). Milliseconds the HUD stays after the app is idle again, so the last words can be read. Pixels between the pill and the bottom of the screen&apos;s available area. Widest the recognised words may make the pill. The dot&apos;s colour per state: red while the microphone is open, as recording lights are.</extracomment>
        <translation>마이크 음량</translation>
    </message>
    <message>
        <source>%1 percent</source>
        <translation>%1퍼센트</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>transcript %1 s</source>
        <extracomment>A press of the mic button shorter than this is a click (hands-free on/off), not a hold.</extracomment>
        <translation>받아쓰기 %1초</translation>
    </message>
    <message>
        <source>first token %1 s</source>
        <translation>첫 토큰 %1초</translation>
    </message>
    <message>
        <source>first audio %1 s</source>
        <translation>첫 음성 %1초</translation>
    </message>
    <message>
        <source>After you spoke: %1</source>
        <translation>말을 마친 뒤: %1</translation>
    </message>
    <message>
        <source>Starting…</source>
        <extracomment>The user asked for the settings dialog. The user picked another profile. The first-run screen&apos;s &quot;use the local model&quot;. Quit was chosen (the app shuts the engine down, then exits). Esc in the window (the app stops the voice with it while the HUD shows). Hide to the tray on close instead of quitting (set when a tray is shown). What the banner and the status line say, recomputed when the language changes.</extracomment>
        <translation>시작하는 중…</translation>
    </message>
    <message>
        <source>Show window</source>
        <translation>창 보기</translation>
    </message>
    <message>
        <source>Push to talk (%1)</source>
        <translation>눌러서 말하기 (%1)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>중지</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>새 대화</translation>
    </message>
    <message>
        <source>Undo the last run</source>
        <translation>마지막 실행 되돌리기</translation>
    </message>
    <message>
        <source>Mute voice</source>
        <translation>음성 끄기</translation>
    </message>
    <message>
        <source>Auto-run</source>
        <translation>자동 실행</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>설정…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>끝내기</translation>
    </message>
    <message>
        <source>&amp;Profile</source>
        <translation>프로필(&amp;P)</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>알림</translation>
    </message>
    <message>
        <source>Use the local model</source>
        <translation>로컬 모델 사용</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>메시지</translation>
    </message>
    <message>
        <source>Ask something, or hold the talk key… (Enter sends, Shift+Enter: new line)</source>
        <translation>무엇이든 물어보거나 말하기 키를 누르고 있으세요… (Enter: 보내기, Shift+Enter: 줄 바꿈)</translation>
    </message>
    <message>
        <source>Stop speaking, the reply and the running code (Ctrl+.)</source>
        <translation>음성, 답변, 실행 중인 코드를 멈춥니다 (Ctrl+.)</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>보내기</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Voice latency</source>
        <translation>음성 지연 시간</translation>
    </message>
    <message>
        <source>Seconds from the end of your speech to the transcript, the model&apos;s first token and the first spoken audio</source>
        <translation>말을 마친 뒤 받아쓰기, 모델의 첫 토큰, 첫 음성 출력까지 걸린 시간(초)</translation>
    </message>
    <message>
        <source>Mic</source>
        <translation>마이크</translation>
    </message>
    <message>
        <source>Microphone level</source>
        <translation>마이크 음량</translation>
    </message>
    <message>
        <source>No language model is set up yet. The local model runs on this computer, with no account and no network.</source>
        <translation>아직 언어 모델이 설정되지 않았습니다. 로컬 모델은 계정이나 네트워크 없이 이 컴퓨터에서 실행됩니다.</translation>
    </message>
    <message>
        <source>No language model is set up yet: to run one on this computer with no account, install the local model (%1), or choose a hosted model in Settings.</source>
        <translation>아직 언어 모델이 설정되지 않았습니다. 계정 없이 이 컴퓨터에서 실행하려면 로컬 모델을 설치하거나 (%1) 설정에서 호스팅 모델을 선택하세요.</translation>
    </message>
    <message>
        <source>Welcome to oi-voice.</source>
        <translation>oi-voice에 오신 것을 환영합니다.</translation>
    </message>
    <message>
        <source>No model set up yet</source>
        <translation>아직 모델이 설정되지 않음</translation>
    </message>
    <message>
        <source>Could not start: %1. Check the settings (Ctrl+,).</source>
        <translation>시작할 수 없습니다: %1. 설정을 확인하세요 (Ctrl+,).</translation>
    </message>
    <message>
        <source>Edit what you said, then press Enter to send it.</source>
        <translation>말한 내용을 고친 다음 Enter를 눌러 보내세요.</translation>
    </message>
    <message>
        <source>Nothing heard (%1).</source>
        <translation>아무것도 들리지 않았습니다 (%1).</translation>
    </message>
    <message>
        <source>Approved in the chat</source>
        <translation>대화에서 승인함</translation>
    </message>
    <message>
        <source>Approved in the dialog</source>
        <translation>대화 상자에서 승인함</translation>
    </message>
    <message>
        <source>Declined in the chat (%1)</source>
        <translation>대화에서 거절함 (%1)</translation>
    </message>
    <message>
        <source>Declined in the dialog (%1)</source>
        <translation>대화 상자에서 거절함 (%1)</translation>
    </message>
    <message>
        <source>That request was no longer open.</source>
        <translation>이미 끝난 요청입니다.</translation>
    </message>
    <message>
        <source>Approved by voice</source>
        <translation>음성으로 승인함</translation>
    </message>
    <message>
        <source>Declined by voice</source>
        <translation>음성으로 거절함</translation>
    </message>
    <message>
        <source>The turn ended before an answer</source>
        <translation>답하기 전에 이번 차례가 끝났습니다</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>중지했습니다.</translation>
    </message>
</context>
<context>
    <name>MicButton</name>
    <message>
        <source>Listening (click to stop)</source>
        <extracomment>Hands-free listening is on (the text says how to stop it).</extracomment>
        <translation>듣는 중 (클릭하면 중지)</translation>
    </message>
    <message>
        <source>Hold to talk</source>
        <translation>누르고 말하기</translation>
    </message>
    <message>
        <source>Hold to talk; click for hands-free</source>
        <translation>누르고 말하기. 클릭하면 핸즈프리</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>The server address must start with http:// or https://, for example %1</source>
        <translation>서버 주소는 http:// 또는 https://로 시작해야 합니다. 예: %1</translation>
    </message>
    <message>
        <source>Press the key to hold while you talk.</source>
        <translation>말하는 동안 누르고 있을 키를 누르세요.</translation>
    </message>
    <message>
        <source>Choose one key without Ctrl, Alt, Shift or Meta: it is held down while you talk.</source>
        <translation>Ctrl, Alt, Shift, Meta 없이 키 하나를 고르세요. 말하는 동안 누르고 있는 키입니다.</translation>
    </message>
    <message>
        <source>oi-voice settings</source>
        <extracomment>Emitted after the user confirmed (True) or refused (False) turning auto-run on. A field&apos;s action button was clicked (the setting&apos;s key): the caller does the work, off the Qt thread. The profile whose key the key field shows (another profile&apos;s key is not read here). Field name -&gt; its editor, in the schema&apos;s order. The group boxes by (English) group name, and the field labels by field name.</extracomment>
        <translation>oi-voice 설정</translation>
    </message>
    <message>
        <source>&amp;Profile:</source>
        <translation>프로필(&amp;P):</translation>
    </message>
    <message>
        <source>Settings are saved into this profile, and the app uses it.</source>
        <translation>설정은 이 프로필에 저장되며 앱이 이 프로필을 사용합니다.</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>숨기기</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>보기</translation>
    </message>
    <message>
        <source>Kept in %1, never in the profile file.</source>
        <translation>%1에 보관되며 프로필 파일에는 저장되지 않습니다.</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API 키(&amp;K):</translation>
    </message>
    <message>
        <source>Turn on auto-run?</source>
        <translation>자동 실행을 켤까요?</translation>
    </message>
    <message>
        <source>Run without asking</source>
        <translation>묻지 않고 실행</translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation>폴더 선택</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>찾아보기…</translation>
    </message>
    <message>
        <source>Piper voice</source>
        <translation>Piper 음성</translation>
    </message>
    <message>
        <source>Piper voices (*.onnx)</source>
        <translation>Piper 음성 (*.onnx)</translation>
    </message>
    <message>
        <source>Leave empty to keep the key stored for %1</source>
        <translation>비워 두면 %1에 저장된 키를 유지합니다</translation>
    </message>
    <message>
        <source>Code that %1</source>
        <translation>%1 코드</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>starting…</source>
        <translation>시작하는 중…</translation>
    </message>
</context>
<context>
    <name>VoiceHud</name>
    <message>
        <source>Voice status</source>
        <extracomment>The user asked to stop (the pill&apos;s Stop button, or Esc). The window whose being active makes a spoken reply need no HUD (set by the app). Whether the current turn began with listening (the HUD then stays for all of it).</extracomment>
        <translation>음성 상태</translation>
    </message>
    <message>
        <source>Recognised words</source>
        <translation>인식된 말</translation>
    </message>
    <message>
        <source>Stop (Esc)</source>
        <translation>중지 (Esc)</translation>
    </message>
    <message>
        <source>Stop listening and speaking</source>
        <translation>듣기와 말하기 중지</translation>
    </message>
    <message>
        <source>“%1” — edit it in the window</source>
        <translation>“%1” — 창에서 고치세요</translation>
    </message>
    <message>
        <source>Nothing heard</source>
        <translation>아무것도 들리지 않음</translation>
    </message>
    <message>
        <source>Something went wrong: see the window</source>
        <translation>문제가 생겼습니다. 창을 확인하세요</translation>
    </message>
    <message>
        <source>Release %1 to send · Esc to stop</source>
        <translation>%1 키를 떼면 전송 · Esc로 중지</translation>
    </message>
    <message>
        <source>Say yes or no</source>
        <translation>“네” 또는 “아니요”라고 말하세요</translation>
    </message>
    <message>
        <source>Speak now · Esc to stop</source>
        <translation>지금 말하세요 · Esc로 중지</translation>
    </message>
</context>
<context>
    <name>risk</name>
    <message>
        <source>changes or overwrites files in the working folder</source>
        <extracomment>Kinds of medium effect; the user may let &quot;Always for this session&quot; cover some of them. (Their words are marked for the desktop app&apos;s translations: the settings dialog shows them.)</extracomment>
        <translation>작업 폴더의 파일 변경 또는 덮어쓰기</translation>
    </message>
    <message>
        <source>changes files outside the working folder</source>
        <translation>작업 폴더 밖의 파일 변경</translation>
    </message>
    <message>
        <source>uses the network</source>
        <translation>네트워크 사용</translation>
    </message>
    <message>
        <source>installs packages</source>
        <translation>패키지 설치</translation>
    </message>
    <message>
        <source>stops other programs</source>
        <translation>다른 프로그램 중지</translation>
    </message>
    <message>
        <source>changes file permissions</source>
        <translation>파일 권한 변경</translation>
    </message>
    <message>
        <source>changes a git repository</source>
        <translation>git 저장소 변경</translation>
    </message>
    <message>
        <source>runs code or commands the rater cannot check</source>
        <translation>위험 평가로 확인할 수 없는 코드나 명령 실행</translation>
    </message>
    <message>
        <source>changes system settings or reads secrets</source>
        <translation>시스템 설정 변경 또는 비밀 정보 읽기</translation>
    </message>
</context>
<context>
    <name>settings</name>
    <message>
        <source>&quot;Always for this session&quot; runs low-risk code without asking. Code of medium risk whose every effect is ticked here runs without asking too: it can change your files. High-risk code (deleting files, rewriting history ...) always asks.</source>
        <extracomment>Who reads a setting: the Interpreter (by attribute path), ``oi`` (terminal), the voice layer (``voice.*``: VoiceConfig), the desktop app alone (``app``: through AppSettings), or nobody (Open Interpreter keys accepted so its profiles load). How a flag sets a value: ``value`` takes an argument; ``switch`` turns a bool on; ``negatable`` also has a ``--no-`` form; ``off`` turns a bool off. Which front ends offer a setting&apos;s flags. A :attr:`Setting.default` that leaves the value to the engine. The label, or a check box&apos;s text; ``&amp;`` marks the keyboard shortcut. The group box it goes into: &quot;Model&quot;, &quot;Voice&quot; or &quot;Behaviour&quot;. The :class:`~oi_voice.app_settings.AppSettings` field (default: the key&apos;s last part). An editable drop-down offering these (any text may be typed). For a ``choice`` setting: the words shown for each of its choices, in order. A drop-down of names the caller gathers at run time (&quot;voices&quot;, &quot;input_devices&quot;, &quot;output_devices&quot;). The entry that means &quot;not set&quot; (None). A number&apos;s range; one below ``minimum`` shows ``none_text`` and means None. ``key``: one key to hold (push-to-talk); ``folder``: a drop-down with a Browse button. ``checklist``: a list of ticks, one per entry of ``options`` (a ``list[str]`` setting). ``language_file``: a file for the spoken language, kept in a ``dict`` setting by language code. What the dialog shows when the profile does not set the key (default: the setting&apos;s default). Place in its group: fields go by (order, declaration order). A button beside the field with this text; the dialog emits ``action_requested(key)`` when clicked. The profile key: an attribute path of the Interpreter (``llm.model``), a terminal key (``multi_line``) or a voice key (``voice.language``). None (YAML null) is allowed. Command-line flag names, short first (Open Interpreter&apos;s names for ``oi``). The flag&apos;s help when it differs from :attr:`help`. The argparse ``dest`` (default: the long flag without dashes). An environment variable that sets it (above profiles, below flags). Shown as ``***`` when settings are described. Computes the default when it depends on the machine (the system locale ...); wins over ``default``. Dotted prefixes (``llm``, ``voice``, ``computer``): a profile may nest keys under them. The settings dialog&apos;s groups, top to bottom (a group not listed comes last). Models offered in the dialog&apos;s model box (any litellm model name can be typed). faster-whisper models offered (a model folder can be browsed for); unset follows the language. What the dialog says beside the &quot;Always also runs&quot; ticks.</extracomment>
        <translation>“이번 세션 동안 항상 허용”은 위험이 낮은 코드를 묻지 않고 실행합니다. 위험 보통인 코드도 그 영향이 모두 여기에 체크되어 있으면 묻지 않고 실행되며, 파일이 바뀔 수 있습니다. 위험이 높은 코드(파일 삭제, 기록 다시 쓰기 등)는 항상 묻습니다.</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <extracomment>Spoken languages offered (any Whisper language code can be typed); auto detects among voice.languages. The places Python code may run in (computer.python_env), besides a folder. The API base shown as an example. Every setting. Open Interpreter&apos;s flag names and profile keys must not change.</extracomment>
        <translation>모델(&amp;M):</translation>
    </message>
    <message>
        <source>A litellm model name; &quot;local&quot; runs the bundled model on this computer.</source>
        <translation>litellm 모델 이름입니다. “local”은 이 컴퓨터에서 내장 모델을 실행합니다.</translation>
    </message>
    <message>
        <source>API &amp;base:</source>
        <translation>API 주소(&amp;B):</translation>
    </message>
    <message>
        <source>An OpenAI-compatible server (Ollama, LM Studio, llama.cpp); empty: the provider&apos;s.</source>
        <translation>OpenAI 호환 서버(Ollama, LM Studio, llama.cpp)입니다. 비워 두면 제공업체의 주소를 씁니다.</translation>
    </message>
    <message>
        <source>Run code without asking</source>
        <translation>묻지 않고 코드 실행</translation>
    </message>
    <message>
        <source>&quot;Always&quot; also runs:</source>
        <translation>“항상 허용”에 포함할 항목:</translation>
    </message>
    <message>
        <source>P&amp;ython for code:</source>
        <translation>코드용 Python(&amp;Y):</translation>
    </message>
    <message>
        <source>Reset…</source>
        <translation>초기화…</translation>
    </message>
    <message>
        <source>auto: the installed app runs code in a Python environment of its own, where pip installs packages that stay; app: this program&apos;s Python; user: that environment; or a folder for it. Reset removes what was installed there.</source>
        <translation>auto: 설치된 앱은 별도의 Python 환경에서 코드를 실행하며, pip로 설치한 패키지가 계속 남습니다. app: 이 프로그램의 Python. user: 그 별도 환경. 또는 환경으로 쓸 폴더. 초기화하면 그곳에 설치한 것이 삭제됩니다.</translation>
    </message>
    <message>
        <source>&amp;Speech model:</source>
        <translation>음성 인식 모델(&amp;S):</translation>
    </message>
    <message>
        <source>(follows the language)</source>
        <translation>(언어에 따름)</translation>
    </message>
    <message>
        <source>A faster-whisper size, or a folder holding a CTranslate2 Whisper model.</source>
        <translation>faster-whisper 모델 크기 또는 CTranslate2 Whisper 모델이 든 폴더입니다.</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>언어(&amp;L):</translation>
    </message>
    <message>
        <source>(system language)</source>
        <translation>(시스템 언어)</translation>
    </message>
    <message>
        <source>Push to &amp;talk:</source>
        <translation>눌러서 말하기(&amp;T):</translation>
    </message>
    <message>
        <source>Speech &amp;engine:</source>
        <translation>음성 엔진(&amp;E):</translation>
    </message>
    <message>
        <source>Automatic (Piper where it has a voice)</source>
        <translation>자동 (음성이 있으면 Piper)</translation>
    </message>
    <message>
        <source>Piper</source>
        <translation>Piper</translation>
    </message>
    <message>
        <source>System voice (pyttsx3)</source>
        <translation>시스템 음성 (pyttsx3)</translation>
    </message>
    <message>
        <source>&amp;Piper voice:</source>
        <translation>Piper 음성(&amp;P):</translation>
    </message>
    <message>
        <source>built in for English; else a .onnx voice or its folder</source>
        <translation>영어는 내장되어 있습니다. 다른 언어는 .onnx 음성이나 그 폴더를 지정하세요</translation>
    </message>
    <message>
        <source>A Piper voice (.onnx with its .onnx.json) for the spoken language.</source>
        <translation>말하는 언어의 Piper 음성(.onnx와 .onnx.json)입니다.</translation>
    </message>
    <message>
        <source>System &amp;voice:</source>
        <translation>시스템 음성(&amp;V):</translation>
    </message>
    <message>
        <source>(default)</source>
        <translation>(기본값)</translation>
    </message>
    <message>
        <source>&amp;Rate:</source>
        <translation>속도(&amp;R):</translation>
    </message>
    <message>
        <source> words/min</source>
        <translation> 단어/분</translation>
    </message>
    <message>
        <source>Say what will run and listen for yes or no</source>
        <translation>실행할 내용을 말하고 “네” 또는 “아니요”를 듣기</translation>
    </message>
    <message>
        <source>&amp;Echo cancellation:</source>
        <translation>에코 제거(&amp;E):</translation>
    </message>
    <message>
        <source>Automatic (on unless you use headphones)</source>
        <translation>자동 (헤드폰이 아니면 켜짐)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>켜기</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>끄기</translation>
    </message>
    <message>
        <source>Removes the app&apos;s own voice from the microphone, so that hands-free works on loudspeakers and you can interrupt it by speaking.</source>
        <translation>마이크에서 앱 자신의 목소리를 제거합니다. 스피커로도 핸즈프리를 쓸 수 있고, 말로 끼어들어 멈출 수 있습니다.</translation>
    </message>
    <message>
        <source>&amp;Microphone:</source>
        <translation>마이크(&amp;M):</translation>
    </message>
    <message>
        <source>(system default)</source>
        <translation>(시스템 기본값)</translation>
    </message>
    <message>
        <source>Spea&amp;ker:</source>
        <translation>스피커(&amp;K):</translation>
    </message>
    <message>
        <source>Let me edit what I said before it is sent</source>
        <translation>보내기 전에 말한 내용 고치기</translation>
    </message>
    <message>
        <source>&amp;Appearance:</source>
        <translation>모양(&amp;A):</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>시스템 설정 따르기</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>밝게</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>어둡게</translation>
    </message>
    <message>
        <source>The window&apos;s colours: as the desktop&apos;s, or always light or dark.</source>
        <translation>창 색상입니다. 데스크톱 설정을 따르거나 항상 밝게 또는 어둡게 표시합니다.</translation>
    </message>
    <message>
        <source>&amp;Display language:</source>
        <translation>표시 언어(&amp;D):</translation>
    </message>
    <message>
        <source>The language of the window, the dialogs and the tray menu; it changes at once.</source>
        <translation>창, 대화 상자, 트레이 메뉴의 언어입니다. 바로 바뀝니다.</translation>
    </message>
    <message>
        <source>Model</source>
        <extracomment>The dialog&apos;s group boxes (the schema&apos;s DialogField.group), marked for translation.</extracomment>
        <translation>모델</translation>
    </message>
    <message>
        <source>Voice</source>
        <translation>음성</translation>
    </message>
    <message>
        <source>Behaviour</source>
        <translation>동작</translation>
    </message>
</context>
</TS>
