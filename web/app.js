// shopcrew owner console: one plain script, no dependencies, no build step.
//
// It runs under a strict Content-Security-Policy (no inline script or style), so every
// piece of the page is built with DOM calls, and every text that comes from the shop
// (product names, customer messages, summaries) goes in through textContent, never as
// markup. The access token lives in sessionStorage for this tab only; the language choice
// in localStorage.
'use strict';

(() => {
  const API = '/api/v1';
  const TOKEN_KEY = 'shopcrew.token';
  const LANG_KEY = 'shopcrew.lang';
  const ROUTES = ['chat', 'plans', 'log', 'approvals', 'perms', 'schedules', 'reports', 'assets'];
  const KINDS = ['request', 'plan', 'effect', 'decision', 'approval', 'error', 'setup', 'permission',
    'model_call', 'summary', 'schedule', 'report'];
  const KNOBS = ['max_discount_pct', 'approval_above_discount_pct', 'max_coupon', 'max_refund',
    'max_refund_per_day', 'max_price_change_pct', 'daily_budget', 'monthly_budget', 'skills'];
  // Policy fields as /perms shows them, the knob a grant sets, and the unit of the value.
  const CAPS = [
    ['max_discount', 'max_discount_pct', 'pct'],
    ['approval_above_discount', 'approval_above_discount_pct', 'pct'],
    ['max_coupon', 'max_coupon', 'money'],
    ['max_refund', 'max_refund', 'money'],
    ['max_refund_per_day', 'max_refund_per_day', 'money'],
    ['max_price_change', 'max_price_change_pct', 'pct'],
    ['max_price_changes_per_product_per_day', 'max_price_changes_per_product_per_day', 'count'],
    ['daily_budget', 'daily_budget', 'money'],
    ['monthly_budget', 'monthly_budget', 'money'],
  ];
  const STATUS_ICON = {
    planned: '○', running: '↻', done: '✓', pending: '‖', denied: '✕', failed: '!', skipped: '↷',
    approved: '✓', rejected: '✕', expired: '⊘', ok: '✓', broken: '✕', active: '●', paused: '‖',
  };

  // Every UI string, Chinese first, then English.
  const M = {
    'app.title': ['shopcrew 店主控制台', 'shopcrew owner console'],
    'top.logout': ['退出', 'Sign out'],
    'top.langSwitch': ['Switch to English', '切换到中文'],
    'role.owner': ['店主', 'Owner'],
    'role.viewer': ['只读', 'Viewer'],
    'nav.chat': ['对话', 'Chat'],
    'nav.plans': ['计划', 'Plans'],
    'nav.log': ['工作日志', 'Work log'],
    'nav.approvals': ['审批', 'Approvals'],
    'nav.perms': ['权限', 'Permissions'],
    'nav.schedules': ['定时任务', 'Schedules'],
    'nav.reports': ['报告', 'Reports'],
    'nav.assets': ['素材', 'Assets'],
    'nav.pending': ['{n} 项待批准', '{n} waiting for approval'],

    'login.title': ['登录店主控制台', 'Sign in to the owner console'],
    'login.lead': ['粘贴访问令牌。令牌只保存在这个浏览器标签页里,关闭后即清除。',
      'Paste your access token. It is kept in this browser tab only and is gone when you close it.'],
    'login.token': ['访问令牌', 'Access token'],
    'login.button': ['登录', 'Sign in'],
    'login.empty': ['请先粘贴令牌。', 'Paste a token first.'],
    'login.expired': ['登录已失效,请重新登录。', 'Your session ended; sign in again.'],

    'notice.viewer': ['只读令牌:可以查看一切,但不能批准、授权或运行任务。',
      'Viewer token: you can see everything, but not approve, grant or run anything.'],
    'notice.paused': ['全部员工已暂停(紧急停止)。恢复之前,任何操作都不会执行。',
      'All employees are paused (kill switch). Nothing runs until you resume.'],
    'notice.pausedLink': ['去权限页', 'Open permissions'],
    'viewer.disabled': ['只读令牌不能执行这个操作', 'A viewer token cannot do this'],

    'common.loading': ['加载中…', 'Loading…'],
    'common.retry': ['重试', 'Try again'],
    'common.none': ['无', 'none'],
    'common.details': ['详情', 'Details'],
    'common.close': ['关闭', 'Close'],
    'common.all': ['全部', 'All'],
    'common.timesIn': ['时间按店铺时区 {tz}', 'Times in the shop’s time zone, {tz}'],
    'common.unnamed': ['(无标题)', '(untitled)'],

    'err.network': ['连不上 shopcrew 服务器。请检查它是否在运行,然后重试。',
      'Cannot reach the shopcrew server. Check that it is running, then try again.'],
    'err.status': ['服务器返回错误 {status}', 'The server answered with error {status}'],
    'err.badjson': ['服务器的回答无法读取', 'The server’s answer could not be read'],

    'status.planned': ['已计划', 'planned'],
    'status.running': ['进行中', 'running'],
    'status.done': ['完成', 'done'],
    'status.pending': ['待批准', 'pending'],
    'status.denied': ['已拒绝', 'denied'],
    'status.failed': ['失败', 'failed'],
    'status.skipped': ['已跳过', 'skipped'],
    'status.approved': ['已批准', 'approved'],
    'status.rejected': ['已驳回', 'rejected'],
    'status.expired': ['已过期', 'expired'],
    'status.ok': ['完好', 'intact'],
    'status.broken': ['已损坏', 'broken'],
    'status.active': ['工作中', 'active'],
    'status.paused': ['已暂停', 'paused'],

    'actor.owner': ['店主', 'Owner'],
    'actor.planner': ['规划', 'Planner'],
    'actor.scheduler': ['定时', 'Scheduler'],
    'actor.system': ['系统', 'System'],
    'actor.employee': ['员工', 'Employee'],

    'chat.title': ['对话', 'Chat'],
    'chat.lead': ['用中文或英文告诉团队要做什么。可以先看计划,再决定执行。',
      'Tell the crew what to do, in Chinese or English. Preview the plan first if you like, then run it.'],
    'chat.label': ['你的需求', 'Your request'],
    'chat.placeholder': ['例如:下周中秋大促,月饼8折,做一张海报,推广预算500元',
      'e.g. Mid-Autumn sale next week: 20% off mooncakes, make a banner, ad budget 500'],
    'chat.preview': ['只看计划', 'Preview plan'],
    'chat.send': ['执行', 'Run'],
    'chat.hint': ['Ctrl+Enter 执行', 'Ctrl+Enter runs it'],
    'chat.try': ['试试:', 'Try:'],
    'chat.ex1': ['下周中秋大促:月饼8折,做一张海报,推广预算500元',
      'Mid-Autumn sale next week: 20% off mooncakes, make a banner, ad budget 500'],
    'chat.ex2': ['看看上周的销售', 'sales report for last week'],
    'chat.ex3': ['满200减20,发100张', 'coupon 20 off orders over 200, 100 coupons'],
    'chat.ex4': ['回复客户消息', 'reply to customer messages'],
    'chat.you': ['你', 'You'],
    'chat.planning': ['正在规划…', 'Planning…'],
    'chat.running': ['执行中:{done}/{total} 个任务已结束', 'Running: {done} of {total} tasks finished'],
    'chat.empty': ['先写下要做的事。', 'Write what the crew should do first.'],
    'chat.source.offline': ['离线规划', 'offline planner'],
    'chat.source.model': ['模型规划:{name}', 'planned by model: {name}'],
    'chat.previewed': ['计划共 {n} 个任务,尚未执行。', 'Plan with {n} tasks, not run yet.'],
    'chat.previewed.one': ['计划共 1 个任务,尚未执行。', 'Plan with 1 task, not run yet.'],
    'chat.ran': ['计划 #{plan}:完成 {done}/{total}', 'Plan #{plan}: {done} of {total} done'],
    'chat.part.pending': [',待批准 {n}', ', {n} waiting for approval'],
    'chat.part.denied': [',被拒绝 {n}', ', {n} denied'],
    'chat.part.failed': [',失败 {n}', ', {n} failed'],
    'chat.part.skipped': [',跳过 {n}', ', {n} skipped'],
    'chat.cut': ['连接在结果到达之前断开了。工作日志里有已完成的步骤。',
      'The connection ended before the result arrived. The work log has the steps that finished.'],
    'chat.badline': ['收到一行无法读取的进度', 'A progress line could not be read'],
    'chat.waits': ['等 {deps}', 'after {deps}'],
    'chat.because': ['因为 {task} 没有完成', 'because {task} did not finish'],
    'chat.approval': ['等待批准 #{id}', 'Waiting for approval #{id}'],
    'chat.openApprovals': ['去审批', 'Open approvals'],
    'chat.understood': ['听懂了', 'Understood'],
    'chat.unclear': ['没听懂', 'Not understood'],
    'chat.earlier': ['本次较早的对话', 'Earlier in this session'],
    'chat.rule': ['规则 {rule}', 'rule {rule}'],

    'plans.title': ['计划', 'Plans'],
    'plans.lead': ['分析师的经营计划建议在这里等你接受,可以全部接受,也可以只选其中几项。下面是最近的计划,中断了可以继续运行。',
      'The analyst’s business-plan proposals wait here for you to accept, whole or in part. Below are the recent plans; run one again if it was cut short.'],
    'plans.proposals': ['经营计划建议', 'Proposals'],
    'plans.noProposals': ['没有经营计划建议。分析师每周一写一份(定时任务 business-plan)。',
      'No proposals. The analyst writes one every Monday (the business-plan schedule).'],
    'plans.recent': ['最近的计划', 'Recent plans'],
    'plans.noRecent': ['还没有别的计划。', 'No other plans yet.'],
    'plans.source.offline': ['离线规划', 'offline planner'],
    'plans.source.model': ['模型规划', 'planned by a model'],
    'plans.source.business_plan': ['经营计划建议', 'business-plan proposal'],
    'plans.pick': ['选择要执行的任务(它依赖的任务也要选上):', 'Choose the tasks to run (with the ones they depend on):'],
    'plans.accept': ['接受选中的 {n} 项任务', 'Accept the {n} chosen tasks'],
    'plans.accept.one': ['接受选中的 1 项任务', 'Accept the 1 chosen task'],
    'plans.acceptAll': ['全部接受({n} 项任务)', 'Accept all {n} tasks'],
    'plans.acceptAll.one': ['接受(1 项任务)', 'Accept the 1 task'],
    'plans.pickNone': ['先选至少一项任务。', 'Choose at least one task first.'],
    'plans.acceptedBefore': ['{at} 已接受:{tasks}', 'Accepted {at}: {tasks}'],
    'plans.acceptHint': ['每项任务仍要经过你的规则;重复接受不会重复执行。',
      'Each task still goes through your rules; accepting twice repeats nothing.'],
    'plans.tasks': ['{n} 项任务', '{n} tasks'],
    'plans.tasks.one': ['1 项任务', '1 task'],
    'plans.resume': ['继续运行', 'Resume'],
    'plans.resumeHint': ['再运行一次;已经生效的任务不会重复。', 'Runs it again; what already took effect is not repeated.'],
    'plans.running': ['执行中…', 'Running…'],

    'log.title': ['工作日志', 'Work log'],
    'log.lead': ['每一步都记在只能追加的日志里,哈希相连,并有签名检查点。',
      'Every step goes into an append-only log, hash-linked, with signed checkpoints.'],
    'log.employee': ['员工', 'Employee'],
    'log.kind': ['类型', 'Kind'],
    'log.allEmployees': ['全部员工', 'All employees'],
    'log.allKinds': ['全部类型', 'All kinds'],
    'log.verify': ['校验日志', 'Verify log'],
    'log.verifying': ['正在校验…', 'Verifying…'],
    'log.ok': ['日志完好:{entries} 条记录,{checkpoints} 个签名检查点均吻合',
      'Log intact: {entries} entries, all {checkpoints} signed checkpoints match'],
    'log.okShort': ['日志完好:{entries} 条记录', 'Log intact: {entries} entries'],
    'log.broken': ['日志损坏,第 {seq} 条:{problem}', 'Log broken at entry {seq}: {problem}'],
    'log.head': ['链头', 'head'],
    'log.root': ['Merkle 根', 'Merkle root'],
    'log.empty': ['没有符合条件的记录。', 'No entries match.'],
    'log.count': ['显示最新的 {n} 条', 'Showing the newest {n}'],
    'log.checkpoint': ['保存检查点', 'Keep a checkpoint'],
    'log.cpTitle': ['签名检查点', 'Signed checkpoint'],
    'log.cpLead': ['把这段文字保存在店铺以外的地方(发到自己邮箱、打印出来)。以后用 shopcrew log verify --against 文件 可以证明日志没有被截断或改写。',
      'Keep this text somewhere outside the shop (mail it to yourself, print it). Later, shopcrew log verify --against FILE proves the log was not cut short or rewritten.'],
    'log.cpMeta': ['{size} 条记录,签于 {at}', '{size} entries, signed {at}'],
    'log.cpCopy': ['复制', 'Copy'],
    'log.cpCopied': ['已复制', 'Copied'],
    'log.cpCopyFailed': ['无法自动复制,请手动选中文字复制。', 'Could not copy; select the text and copy it yourself.'],
    'log.cpDownload': ['下载 .txt', 'Download .txt'],
    'log.cpKey': ['公钥', 'Public key'],

    'kind.request': ['请求', 'request'],
    'kind.plan': ['计划', 'plan'],
    'kind.effect': ['执行', 'effect'],
    'kind.decision': ['裁决', 'decision'],
    'kind.approval': ['审批', 'approval'],
    'kind.error': ['错误', 'error'],
    'kind.setup': ['设置', 'setup'],
    'kind.permission': ['权限', 'permission'],
    'kind.model_call': ['模型调用', 'model call'],
    'kind.summary': ['小结', 'summary'],
    'kind.schedule': ['定时', 'schedule'],
    'kind.report': ['报告', 'report'],

    'ap.title': ['审批', 'Approvals'],
    'ap.lead': ['超出规则的操作会停下来等你。批准时会按当时的规则重新检查,再执行。',
      'Actions beyond the rules stop and wait for you. Approving checks the rules again, then runs the action.'],
    'ap.waiting': ['等你决定', 'Waiting for you'],
    'ap.decided': ['已处理', 'Decided'],
    'ap.noneWaiting': ['没有待批准的操作。', 'Nothing is waiting for approval.'],
    'ap.noneDecided': ['还没有处理过的审批。', 'No decided approvals yet.'],
    'ap.args': ['完整参数', 'Full arguments'],
    'ap.rule': ['规则', 'Rule'],
    'ap.plan': ['计划', 'Plan'],
    'ap.created': ['提出于', 'Asked'],
    'ap.expires': ['截止', 'Expires'],
    'ap.decidedAt': ['处理于', 'Decided'],
    'ap.digest': ['摘要', 'Digest'],
    'ap.note': ['备注', 'Note'],
    'ap.approve': ['批准', 'Approve'],
    'ap.reject': ['驳回', 'Reject'],
    'ap.reason': ['驳回理由(可选)', 'Reason for rejecting (optional)'],
    'ap.approved': ['已批准 #{id}:{status}', 'Approved #{id}: {status}'],
    'ap.rejected': ['已驳回 #{id}', 'Rejected #{id}'],
    'ap.resumed': ['随后执行', 'Then ran'],

    'perms.title': ['权限', 'Permissions'],
    'perms.lead': ['你的授权、收回和暂停从下一个操作起生效,也包括正在运行的计划。',
      'Your grants, revocations and pauses take effect from the next action, in running plans too.'],
    'perms.killswitch': ['紧急停止', 'Kill switch'],
    'perms.allRunning': ['员工正常工作。', 'The crew is working.'],
    'perms.allPaused': ['全部员工已暂停。', 'All employees are paused.'],
    'perms.pauseAll': ['全部暂停', 'Pause everyone'],
    'perms.resumeAll': ['全部恢复', 'Resume everyone'],
    'perms.version': ['策略版本 {v}', 'Policy version {v}'],
    'perms.ledger': ['花费与上限', 'Spent against caps'],
    'perms.today': ['今天 {date}', 'Today {date}'],
    'perms.month': ['本月', 'This month'],
    'perms.ofCap': ['{spent} / 上限 {cap}', '{spent} of {cap}'],
    'perms.approvalAbove': ['单笔超过 {amount} 需要你批准', 'Any single spend above {amount} waits for you'],
    'perms.reconciled': ['账本与工作日志一致', 'The ledger matches the work log'],
    'perms.unreconciled': ['账本与工作日志不一致,请查看 shopcrew ledger',
      'The ledger does not match the work log; see shopcrew ledger'],
    'perms.campaigns': ['推广计划', 'Ad campaigns'],
    'perms.campaignSpent': ['已花 {spent} / 总预算 {total}', '{spent} spent of {total}'],
    'perms.perEmployee': ['各员工花费', 'Spend per employee'],
    'perms.empSpend': ['今天 {today},本月 {month}', 'today {today}, this month {month}'],
    'perms.shopRules': ['店铺规则', 'Shop rules'],
    'perms.minMargin': ['最低毛利 {v}%', 'Minimum margin {v}%'],
    'perms.maxCampaign': ['单个推广计划最多 {v}', 'At most {v} per ad campaign'],
    'perms.expiry': ['审批 {v} 小时后过期', 'Approvals expire after {v} hours'],
    'perms.employees': ['员工', 'Employees'],
    'perms.allowList': ['允许的技能', 'Allow-list'],
    'perms.allowed': ['可以使用', 'May use'],
    'perms.noSkills': ['没有可用的技能', 'No skills allowed'],
    'perms.revoked': ['已收回', 'Revoked'],
    'perms.caps': ['上限', 'Caps'],
    'perms.noCaps': ['没有设置上限', 'No caps set'],
    'perms.modes': ['使用方式', 'Modes'],
    'perms.revoke': ['收回', 'Revoke'],
    'perms.giveBack': ['还给', 'Give back'],
    'perms.pause': ['暂停', 'Pause'],
    'perms.resume': ['恢复', 'Resume'],
    'perms.until': ['至 {t}', 'until {t}'],
    'perms.through': ['至 {t} 当天结束', 'through {t}'],
    'perms.throughBare': ['{t} 当天结束', 'through {t}'],
    'perms.grant': ['授权', 'Grant'],
    'perms.grantLead': ['设置一个上限或还回一项技能,可以只到某天为止。',
      'Set a cap or give a skill back, for good or until a date.'],
    'perms.grantEmployee': ['员工', 'Employee'],
    'perms.grantSetting': ['设置(knob=value)', 'Setting (knob=value)'],
    'perms.grantUntil': ['有效至(可选)', 'Until (optional)'],
    'perms.grantSubmit': ['授权', 'Grant'],
    'perms.knobs': ['可以设置的项', 'Knobs you can set'],
    'perms.badSetting': ['请写成 knob=value,例如 max_discount_pct=30',
      'Write it as knob=value, e.g. max_discount_pct=30'],
    'perms.history': ['变更记录', 'History'],
    'perms.noHistory': ['你还没有改过权限。', 'You have not changed any permission yet.'],
    'perms.h.version': ['版本', 'Version'],
    'perms.h.at': ['时间', 'When'],
    'perms.h.kind': ['变更', 'Change'],
    'perms.h.employee': ['员工', 'Employee'],
    'perms.h.what': ['内容', 'What'],
    'perms.h.until': ['有效至', 'Until'],
    'perms.everyone': ['全部员工', 'everyone'],
    'perms.explain': ['生效的规则', 'Rules in force'],
    'perms.explainLead': ['团队此刻遵守的规则,用文字写出,并附规则编号和 Cedar 策略。',
      'The rules the crew works under right now, in words, with rule ids and the Cedar policies.'],
    'perms.explainFor': ['员工', 'Employee'],
    'perms.forGood': ['长期', 'for good'],
    'perms.done.grant': ['已授权 {who}:{setting}(策略版本 {v},下一个操作起生效)',
      'Granted {who}: {setting} (policy version {v}, in force from the next action)'],
    'perms.done.revoke': ['已收回 {who} 的 {skill}(策略版本 {v})', 'Took {skill} away from {who} (policy version {v})'],
    'perms.done.pause': ['已暂停 {who}(策略版本 {v})', 'Paused {who} (policy version {v})'],
    'perms.done.resume': ['已恢复 {who}(策略版本 {v})', 'Resumed {who} (policy version {v})'],
    'change.grant': ['授予', 'grant'],
    'change.revoke': ['收回', 'revoke'],
    'change.pause': ['暂停', 'pause'],
    'change.resume': ['恢复', 'resume'],
    'mode.auto': ['自动(在上限内)', 'auto (within the caps)'],
    'mode.approve': ['每次都要批准', 'always ask the owner'],
    'mode.never': ['禁止', 'never'],

    'knob.max_discount_pct': ['最大折扣(%)', 'Largest discount (%)'],
    'knob.approval_above_discount_pct': ['折扣超过此值需批准(%)', 'Discounts above this wait for approval (%)'],
    'knob.max_coupon': ['单张优惠券最大面额', 'Largest coupon'],
    'knob.max_refund': ['单笔退款上限', 'Largest refund'],
    'knob.max_refund_per_day': ['每天退款总额上限', 'Refunds per day at most'],
    'knob.max_price_change_pct': ['改价幅度上限(%)', 'Largest price change (%)'],
    'knob.max_price_changes_per_product_per_day': ['每个商品每天改价次数', 'Price changes per product per day'],
    'knob.daily_budget': ['每日预算', 'Daily budget'],
    'knob.monthly_budget': ['每月预算', 'Monthly budget'],
    'knob.skills': ['还回技能(技能名或 promo.* 这样的模式)', 'Give a skill back (a name or a pattern like promo.*)'],

    'sched.title': ['定时任务', 'Schedules'],
    'sched.lead': ['团队按时自己完成的工作。', 'What the crew does on its own, and when.'],
    'sched.name': ['名称', 'Name'],
    'sched.when': ['时间', 'When'],
    'sched.employee': ['员工', 'Employee'],
    'sched.does': ['做什么', 'Does'],
    'sched.state': ['状态', 'State'],
    'sched.next': ['下次', 'Next run'],
    'sched.last': ['上次', 'Last run'],
    'sched.actions': ['操作', 'Actions'],
    'sched.pause': ['暂停', 'Pause'],
    'sched.resume': ['恢复', 'Resume'],
    'sched.run': ['立即运行', 'Run now'],
    'sched.none': ['还没有定时任务。', 'No schedules yet.'],
    'sched.never': ['从未', 'never'],
    'sched.report.day': ['写日报', 'write the daily report'],
    'sched.report.week': ['写周报', 'write the weekly report'],
    'sched.catchUp.once': ['错过后补跑一次', 'catch up once'],
    'sched.catchUp.skip': ['错过就跳过', 'skip missed runs'],
    'sched.daily': ['每天 {time}', 'every day at {time}'],
    'sched.weekly': ['每{day} {time}', 'every {day} at {time}'],
    'sched.hourly': ['每小时第 {m} 分', 'every hour at :{m}'],
    'sched.paused': ['已暂停 {name}', 'Paused {name}'],
    'sched.resumed': ['已恢复 {name}', 'Resumed {name}'],
    'sched.runs': ['最近的运行', 'Recent runs'],
    'sched.noRuns': ['还没有运行过。', 'No runs yet.'],
    'sched.due': ['应运行于', 'Due'],
    'sched.summary': ['结果', 'Outcome'],
    'sched.remove': ['删除', 'Remove'],
    'sched.removeConfirm': ['再点一次删除', 'Click again to remove'],
    'sched.removed': ['已删除 {name}', 'Removed {name}'],
    'sched.add': ['添加定时任务', 'Add a schedule'],
    'sched.addLead': ['时间用 cron 写(分 时 日 月 周),按店铺时区。', 'Write the time as cron (minute hour day month weekday), in the shop’s time zone.'],
    'sched.addName': ['名称', 'Name'],
    'sched.addCron': ['时间(cron)', 'When (cron)'],
    'sched.addKind': ['做什么', 'Does'],
    'sched.kind.request': ['一句话需求', 'A request in words'],
    'sched.kind.skill': ['一个技能', 'One skill'],
    'sched.kind.report': ['店主报告', 'The owner report'],
    'sched.value.request': ['需求', 'Request'],
    'sched.value.skill': ['技能', 'Skill'],
    'sched.value.report': ['周期(day 或 week)', 'Period (day or week)'],
    'sched.ph.request': ['例如:看看上周的销售', 'e.g. sales report for last week'],
    'sched.addArgs': ['参数(JSON)', 'Arguments (JSON)'],
    'sched.addEmployee': ['员工(可选)', 'Employee (optional)'],
    'sched.anyEmployee': ['由团队决定', 'Chosen by the crew'],
    'sched.addCatchUp': ['错过时', 'When missed'],
    'sched.addSubmit': ['添加', 'Add'],
    'sched.added': ['已添加 {name},下次运行 {next}', 'Added {name}; next run {next}'],
    'sched.needName': ['请填写名称。', 'Give it a name.'],
    'sched.needCron': ['请填写 cron 时间,例如 0 9 * * *。', 'Write the time as cron, e.g. 0 9 * * *.'],
    'sched.needValue': ['请填写要做的事。', 'Say what it should do.'],
    'sched.badArgs': ['参数必须是 JSON 对象,例如 {"limit": 20}', 'Arguments must be a JSON object, e.g. {"limit": 20}'],
    'sched.cronUnknown': ['按 cron 运行', 'runs by cron'],

    'hook.title': ['通知(Webhook)', 'Webhooks'],
    'hook.lead': ['有报告、待批准的操作或被拒绝的操作时,通知你的钉钉、企业微信群或其他地址。',
      'Tell a DingTalk or WeCom group, or any address, about reports, actions waiting for approval and denials.'],
    'hook.none': ['还没有 webhook。', 'No webhooks yet.'],
    'hook.url': ['地址', 'URL'],
    'hook.format': ['格式', 'Format'],
    'hook.events': ['事件', 'Events'],
    'hook.signed': ['签名', 'Signed'],
    'hook.delivered': ['已送达至', 'Delivered through'],
    'hook.actions': ['操作', 'Actions'],
    'hook.yes': ['是', 'yes'],
    'hook.no': ['否', 'no'],
    'hook.entry': ['第 {seq} 条记录', 'entry #{seq}'],
    'hook.format.json': ['通用 JSON', 'Generic JSON'],
    'hook.format.dingtalk': ['钉钉机器人', 'DingTalk robot'],
    'hook.format.wecom': ['企业微信机器人', 'WeCom robot'],
    'hook.event.report': ['报告', 'Reports'],
    'hook.event.approval': ['待批准', 'Waiting for approval'],
    'hook.event.denial': ['被拒绝', 'Denials'],
    'hook.secret': ['签名密钥(可选,钉钉)', 'Signing secret (optional, DingTalk)'],
    'hook.add': ['添加 webhook', 'Add a webhook'],
    'hook.submit': ['添加', 'Add'],
    'hook.added': ['已添加 webhook #{id}', 'Added webhook #{id}'],
    'hook.removed': ['已删除 webhook #{id}', 'Removed webhook #{id}'],
    'hook.needUrl': ['请填写地址(http:// 或 https://)。', 'Write the URL (http:// or https://).'],
    'hook.needEvent': ['至少选一种事件。', 'Choose at least one event.'],
    'hook.queryHidden': ['地址里的查询参数(如机器人令牌)只保存在服务器上,这里不显示。',
      'A URL’s query (a robot’s token, say) stays on the server and is not shown here.'],

    'rep.title': ['报告', 'Reports'],
    'rep.lead': ['给店主看的经营报告,带图表。', 'The owner report, with its charts.'],
    'rep.day': ['生成日报(昨天)', 'Write the daily report (yesterday)'],
    'rep.week': ['生成周报(近 7 天)', 'Write the weekly report (last 7 days)'],
    'rep.writing': ['正在生成报告…', 'Writing the report…'],
    'rep.wrote': ['已生成:{title}', 'Written: {title}'],
    'rep.none': ['还没有报告。点上面的按钮生成一份。', 'No reports yet. Write one with a button above.'],
    'rep.pick': ['选择左边的一份报告来查看。', 'Pick a report to read it here.'],
    'rep.list': ['全部报告', 'All reports'],

    'as.title': ['素材', 'Assets'],
    'as.lead': ['团队做的海报、主图、图表和报告。', 'Banners, main images, charts and reports the crew made.'],
    'as.none': ['还没有素材。', 'No assets yet.'],
    'as.kind.banner': ['海报', 'banner'],
    'as.kind.chart': ['图表', 'chart'],
    'as.kind.main_image': ['主图', 'main image'],
    'as.kind.report': ['报告', 'report'],
    'as.noPreview': ['无法预览', 'No preview'],
  };

  // ---------------------------------------------------------------- state

  const state = {
    token: readSession(),
    lang: initialLang(),
    me: null,
    employees: [],
    skills: [],
    loginMessage: '',
    view: null,
    pending: 0,
    paused: false,
    routeSeq: 0,
    logFilter: { employee: '', kind: '' },
  };

  function readSession() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
  }

  function initialLang() {
    let saved = null;
    try { saved = localStorage.getItem(LANG_KEY); } catch { /* storage may be off */ }
    if (saved === 'zh' || saved === 'en') return saved;
    return /^zh(-|_|$)/i.test(navigator.language || '') ? 'zh' : 'en';
  }

  const isOwner = () => !!state.me && state.me.role === 'owner';

  // ---------------------------------------------------------------- text

  function t(key, vars) {
    // A key may have a `.one` form for a count of one ("1 task", not "1 tasks").
    if (vars && vars.n === 1 && M[key + '.one']) key += '.one';
    const pair = M[key];
    let s = pair ? pair[state.lang === 'zh' ? 0 : 1] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined || vars[k] === null ? m : String(vars[k])));
    return s;
  }

  // Text the server keeps in both languages ({zh, en}), or a plain string.
  function loc(x) {
    if (x == null) return '';
    if (typeof x === 'string') return x;
    if (typeof x === 'object') return x[state.lang] || x.en || x.zh || '';
    return String(x);
  }

  function empName(id) {
    if (!id) return '';
    const e = state.employees.find((x) => x.id === id);
    if (e) return loc(e.name) || id;
    if (M['actor.' + id]) return t('actor.' + id);
    return id;
  }

  function skillName(id) {
    const s = state.skills.find((x) => x.id === id);
    return s ? loc(s.name) : '';
  }

  // Re-labels everything marked for translation below `root`.
  function applyI18n(root) {
    for (const el of root.querySelectorAll('[data-i18n]')) {
      let vars;
      if (el.dataset.i18nArgs) { try { vars = JSON.parse(el.dataset.i18nArgs); } catch { vars = undefined; } }
      el.textContent = t(el.dataset.i18n, vars);
    }
    for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
    for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
    for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
    for (const el of root.querySelectorAll('[data-emp]')) el.textContent = empName(el.dataset.emp);
    for (const el of root.querySelectorAll('[data-time]')) el.textContent = fmtTime(el.dataset.time);
  }

  // ---------------------------------------------------------------- DOM

  // h('button', {class, text, i18n, i18nArgs, testid, onclick, ...attributes}, ...children)
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else if (k === 'testid') el.setAttribute('data-testid', v);
        else if (k === 'i18n') el.dataset.i18n = v;
        else if (k === 'i18nArgs') el.dataset.i18nArgs = JSON.stringify(v);
        else if (k === 'ph') { el.dataset.i18nPh = v; el.placeholder = t(v); }
        else if (k === 'tip') { el.dataset.i18nTitle = v; el.title = t(v); }
        else if (k === 'aria') { el.dataset.i18nAria = v; el.setAttribute('aria-label', t(v)); }
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'value') el.value = v;
        else if (k === 'disabled' || k === 'hidden' || k === 'checked' || k === 'open') el[k] = !!v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
      if (props.i18n) el.textContent = t(props.i18n, props.i18nArgs);
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === undefined || kid === null || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
  }

  const $ = (id) => document.getElementById(id);

  function tx(key, vars, cls) {
    return h('span', { class: cls, i18n: key, i18nArgs: vars });
  }

  function empSpan(id, cls) {
    return h('span', { class: cls || 'emp', 'data-emp': id, text: empName(id) });
  }

  function timeEl(iso, cls) {
    if (!iso) return h('span', { class: 'muted', i18n: 'sched.never' });
    return h('time', { class: cls || 'time', datetime: iso, 'data-time': iso, text: fmtTime(iso) });
  }

  function pill(status, extra) {
    const el = h('span', { class: 'pill' });
    setPill(el, status);
    if (extra) el.classList.add(extra);
    return el;
  }

  function setPill(el, status) {
    el.className = el.className.replace(/\bs-[\w-]+/g, '').trim() + ' s-' + status;
    el.dataset.status = status;
    const icon = STATUS_ICON[status] || '•';
    el.replaceChildren(h('span', { class: 'pill-icon', 'aria-hidden': 'true', text: icon }),
      M['status.' + status] ? tx('status.' + status) : h('span', { text: status }));
  }

  function codeEl(text, cls) {
    return h('code', { class: cls, text });
  }

  function jsonPre(value, cls) {
    return h('pre', { class: 'json ' + (cls || ''), text: JSON.stringify(value, null, 2) });
  }

  function compactJson(value) {
    try { return JSON.stringify(value); } catch { return String(value); }
  }

  function loadingEl() {
    return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      tx('common.loading'));
  }

  function errorEl(err, retry) {
    return h('div', { class: 'msg msg-error', role: 'alert' },
      h('span', { text: err && err.message ? err.message : String(err) }),
      retry ? h('button', { type: 'button', class: 'btn btn-small', i18n: 'common.retry', onclick: retry }) : null);
  }

  function emptyEl(key) {
    return h('p', { class: 'empty', i18n: key });
  }

  // A message line: `kind` is ok, error or info. Text is set as text, never parsed.
  function say(el, kind, ...parts) {
    el.className = 'msg msg-' + kind;
    el.dataset.kind = kind;
    el.replaceChildren(...parts.map((p) => (p instanceof Node ? p : document.createTextNode(String(p)))));
    el.hidden = false;
  }

  // Mutating controls stay in the page for a viewer, disabled, with a reason on hover.
  function guard(el) {
    if (!isOwner()) {
      el.disabled = true;
      el.classList.add('is-readonly');
      el.dataset.i18nTitle = 'viewer.disabled';
      el.title = t('viewer.disabled');
    }
    return el;
  }

  // A removal without a confirm() dialog: the first click arms the button ("Click again to
  // remove"), a second click within a few seconds does it; otherwise it disarms itself.
  function twoStep(btn, labelKey, armedKey, action) {
    let timer = null;
    const set = (armed) => {
      btn.dataset.armed = String(armed);
      btn.dataset.i18n = armed ? armedKey : labelKey;
      btn.textContent = t(btn.dataset.i18n);
      btn.classList.toggle('btn-danger', armed);
      btn.classList.toggle('btn-danger-outline', !armed);
    };
    set(false);
    btn.addEventListener('click', () => {
      clearTimeout(timer);
      if (btn.dataset.armed !== 'true') {
        set(true);
        timer = setTimeout(() => set(false), 6000);
        return;
      }
      set(false);
      action();
    });
    return btn;
  }

  function table(cols, rows, opts) {
    const head = h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col', i18n: c.label }))));
    const body = h('tbody', null, rows.map((r) => {
      const tr = h('tr', r.attrs || null);
      cols.forEach((c, i) => {
        const cell = r.cells[i];
        tr.append(h('td', { 'data-label': t(c.label), 'data-i18n-label': c.label, class: c.cls }, cell));
      });
      return tr;
    }));
    return h('table', Object.assign({ class: 'rtable' }, opts || {}), head, body);
  }

  // ---------------------------------------------------------------- formats

  function locale() { return state.lang === 'zh' ? 'zh-CN' : 'en-GB'; }

  function shopTz() { return (state.me && state.me.shop && state.me.shop.timezone) || undefined; }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const opts = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false };
    try { return new Intl.DateTimeFormat(locale(), Object.assign({ timeZone: shopTz() }, opts)).format(d); }
    catch { return new Intl.DateTimeFormat(locale(), opts).format(d); }
  }

  // A grant until a date lasts through that day: its end is the next midnight in the shop's
  // time zone, which reads better as "through 29 Nov" than "until 30 Nov 00:00".
  function untilEl(iso, bare) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return h('span', { text: String(iso) });
    let parts = null;
    try {
      parts = new Intl.DateTimeFormat('en-GB', { timeZone: shopTz(), hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
        .formatToParts(d);
    } catch { parts = null; }
    const at = (type) => (parts ? Number((parts.find((p) => p.type === type) || {}).value) : NaN);
    if (at('hour') === 0 && at('minute') === 0 && at('second') === 0) {
      const day = fmtDate(new Date(d.getTime() - 1000));
      return h('span', { title: fmtTime(iso), i18n: bare ? 'perms.throughBare' : 'perms.through', i18nArgs: { t: day } });
    }
    return bare ? timeEl(iso) : h('span', { i18n: 'perms.until', i18nArgs: { t: fmtTime(iso) } });
  }

  function fmtDate(d) {
    const opts = { year: 'numeric', month: '2-digit', day: '2-digit' };
    try { return new Intl.DateTimeFormat(locale(), Object.assign({ timeZone: shopTz() }, opts)).format(d); }
    catch { return new Intl.DateTimeFormat(locale(), opts).format(d); }
  }

  function fmtMoney(n) {
    if (n === null || n === undefined || n === '') return '';
    const v = Number(n);
    if (!Number.isFinite(v)) return String(n);
    const currency = (state.me && state.me.shop && state.me.shop.currency) || 'CNY';
    try {
      return new Intl.NumberFormat(locale(), { style: 'currency', currency, currencyDisplay: 'narrowSymbol',
        minimumFractionDigits: 0, maximumFractionDigits: 2 }).format(v);
    } catch {
      return '¥' + v.toFixed(2).replace(/\.00$/, '');
    }
  }

  function fmtCap(value, unit) {
    if (unit === 'money') return fmtMoney(value);
    if (unit === 'pct') return value + '%';
    return String(value);
  }

  function basename(path) {
    return String(path || '').split('/').pop();
  }

  function globMatch(pattern, skill) {
    if (pattern === '*' || pattern === skill) return true;
    if (pattern.endsWith('.*')) return skill.startsWith(pattern.slice(0, -1));
    return false;
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(message, status) { super(message); this.status = status; }
  }

  function apiUrl(path) {
    return API + path + (path.includes('?') ? '&' : '?') + 'lang=' + state.lang;
  }

  function headers(body) {
    const hs = { Authorization: 'Bearer ' + state.token, Accept: 'application/json' };
    if (body !== undefined) hs['Content-Type'] = 'application/json';
    return hs;
  }

  async function send(method, path, body) {
    const init = { method, headers: headers(body), cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res;
    try { res = await fetch(apiUrl(path), init); } catch { throw new ApiError(t('err.network'), 0); }
    if (!res.ok) throw await failure(res);
    return res;
  }

  async function api(method, path, body) {
    const res = await send(method, path, body);
    const text = await res.text();
    if (!text) return {};
    try { return JSON.parse(text); } catch { throw new ApiError(t('err.badjson'), res.status); }
  }

  async function apiBlob(path) {
    const res = await send('GET', path);
    return res.blob();
  }

  async function failure(res) {
    let message = '';
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') message = body.error;
    } catch { /* not JSON */ }
    if (!message) message = t('err.status', { status: res.status });
    // A token that stopped working mid-session says so in the owner's language first.
    if (res.status === 401) signOut(state.me ? t('login.expired') + ' ' + message : message);
    return new ApiError(message, res.status);
  }

  // POST /chat answers with one JSON object per line; each one is handed on as it arrives.
  async function streamChat(request, onEvent) {
    const res = await send('POST', '/chat', { request });
    const emit = (line) => {
      const text = line.trim();
      if (!text) return;
      let ev;
      try { ev = JSON.parse(text); } catch { ev = { event: 'error', error: t('chat.badline') }; }
      onEvent(ev);
    };
    if (!res.body || !res.body.getReader) {
      (await res.text()).split('\n').forEach(emit);
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      let chunk;
      try { chunk = await reader.read(); } catch { throw new ApiError(t('err.network'), 0); }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        emit(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
    buffer += decoder.decode();
    emit(buffer);
  }

  // Files need the Authorization header, so they are fetched and shown through blob: URLs.
  async function assetUrl(id, mediaType, owner) {
    let blob = await apiBlob('/assets/' + encodeURIComponent(id) + '/file');
    if (mediaType && blob.type !== mediaType) blob = new Blob([blob], { type: mediaType });
    const url = URL.createObjectURL(blob);
    owner.push(url);
    return url;
  }

  async function assetText(id) {
    const blob = await apiBlob('/assets/' + encodeURIComponent(id) + '/file');
    return blob.text();
  }

  // An HTML report is shown in a sandboxed blob: frame, which inherits this page's policy:
  // its one <style> is allowed there by hash (the server's CSP names it). Anything active or
  // pointing elsewhere is taken out first, in case a report ever carries some.
  function reportDocument(html) {
    const doc = new DOMParser().parseFromString(String(html), 'text/html');
    doc.querySelectorAll('script, link, meta[http-equiv], base, iframe, object, embed, form')
      .forEach((n) => n.remove());
    for (const el of doc.querySelectorAll('*')) {
      for (const a of [...el.attributes]) {
        if (/^on/i.test(a.name) || a.name === 'style') el.removeAttribute(a.name);
        else if (/^(href|src|xlink:href)$/i.test(a.name) && !/^#/.test(a.value)) el.removeAttribute(a.name);
      }
    }
    return '<!doctype html>\n' + doc.documentElement.outerHTML;
  }

  function htmlBlobUrl(html, owner) {
    const url = URL.createObjectURL(new Blob([reportDocument(html)], { type: 'text/html;charset=utf-8' }));
    owner.push(url);
    return url;
  }

  // ---------------------------------------------------------------- session

  function signOut(message) {
    state.token = '';
    state.me = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* ignore */ }
    state.loginMessage = message || '';
    resetChat();
    if (currentRoute() === 'login' && $('login-error')) {
      showLoginError(state.loginMessage);
    } else {
      location.hash = '#/login';
    }
  }

  async function loadProfile() {
    const [me, emps] = await Promise.all([api('GET', '/me'), api('GET', '/employees')]);
    state.me = me;
    state.employees = Array.isArray(emps.employees) ? emps.employees : [];
    state.skills = Array.isArray(emps.skills) ? emps.skills : [];
  }

  // ---------------------------------------------------------------- chrome

  function renderChrome() {
    const signedIn = !!state.me;
    $('nav').hidden = !signedIn;
    $('logout').hidden = !signedIn;
    const badge = $('role-badge');
    badge.hidden = !signedIn;
    const shop = $('shop-title');
    if (signedIn) {
      const role = state.me.role === 'owner' ? 'owner' : 'viewer';
      badge.dataset.role = role;
      badge.dataset.i18n = 'role.' + role;
      badge.textContent = t('role.' + role);
      shop.textContent = (state.me.shop && (state.me.shop.title || state.me.shop.name)) || '';
      shop.title = shopTz() || '';
    } else {
      shop.textContent = '';
    }
    const toggle = $('lang-toggle');
    toggle.textContent = state.lang === 'zh' ? 'EN' : '中文';
    toggle.lang = state.lang === 'zh' ? 'en' : 'zh-CN';
    toggle.title = t('top.langSwitch');
    toggle.setAttribute('aria-label', t('top.langSwitch'));
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('app.title');
    renderNotices();
  }

  function renderNotices() {
    const box = $('notices');
    box.replaceChildren();
    if (!state.me) return;
    if (state.paused) {
      box.append(h('div', { class: 'notice notice-danger', role: 'status' }, tx('notice.paused'), ' ',
        h('a', { href: '#/perms', i18n: 'notice.pausedLink' })));
    }
    if (!isOwner()) box.append(h('div', { class: 'notice notice-info' }, tx('notice.viewer')));
    const count = $('pending-count');
    count.hidden = !state.pending;
    count.textContent = String(state.pending);
    count.title = t('nav.pending', { n: state.pending });
  }

  function markNav(name) {
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  // The pending-approval count and the kill switch, shown on every page.
  async function refreshGlobal() {
    if (!state.token || !state.me) return;
    try {
      const [ap, perms] = await Promise.all([api('GET', '/approvals'), api('GET', '/perms')]);
      state.pending = (ap.approvals || []).filter((a) => a.status === 'pending').length;
      state.paused = !!(perms.policy && perms.policy.paused);
      renderNotices();
    } catch { /* the page in view shows its own errors */ }
  }

  // ---------------------------------------------------------------- routing

  function currentRoute() {
    const m = /^#\/?([\w-]*)/.exec(location.hash || '');
    return m ? m[1] : '';
  }

  function beginView(name) {
    endView();
    const view = { name, alive: true, blobs: [], reload: null };
    view.el = h('section', { class: 'view view-' + name });
    state.view = view;
    return view;
  }

  function endView() {
    const v = state.view;
    if (!v) return;
    v.alive = false;
    v.blobs.forEach((u) => URL.revokeObjectURL(u));
    state.view = null;
  }

  async function route() {
    const seq = ++state.routeSeq;
    let name = currentRoute();
    if (!state.token) {
      if (name !== 'login') { history.replaceState(null, '', '#/login'); }
      showLogin();
      return;
    }
    if (name === 'login') { showLogin(); return; }
    if (!state.me) {
      const main = $('main');
      main.replaceChildren(loadingEl());
      try {
        await loadProfile();
      } catch (e) {
        if (seq !== state.routeSeq || e.status === 401) return;
        main.replaceChildren(errorEl(e, route));
        return;
      }
      if (seq !== state.routeSeq) return;
      renderChrome();
      refreshGlobal();
    }
    if (!ROUTES.includes(name)) {
      name = 'chat';
      history.replaceState(null, '', '#/chat');
    }
    showPage(name);
  }

  function showPage(name) {
    const previous = state.view && state.view.name;
    const view = beginView(name);
    markNav(name);
    renderChrome();
    const main = $('main');
    if (previous !== name) window.scrollTo(0, 0);
    if (name === 'chat') {
      main.replaceChildren(chatView());
    } else {
      main.replaceChildren(view.el);
      PAGES[name](view);
    }
  }

  // ---------------------------------------------------------------- login

  function showLogin() {
    endView();
    state.me = null;
    renderChrome();
    markNav('');
    const input = h('input', { id: 'token-input', type: 'password', class: 'input', testid: 'token-input',
      autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': 'login-lead' });
    const error = h('p', { id: 'login-error', class: 'login-error', testid: 'login-error', role: 'alert',
      'aria-live': 'assertive' });
    const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-button',
      i18n: 'login.button' });
    const submit = async () => {
      const token = input.value.trim();
      if (!token) { showLoginError(t('login.empty')); input.focus(); return; }
      button.disabled = true;
      showLoginError('');
      state.token = token;
      try {
        await loadProfile();
        try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* ignore */ }
        state.loginMessage = '';
        location.hash = '#/chat';
        refreshGlobal();
      } catch (e) {
        state.token = '';
        state.me = null;
        showLoginError(e.message);
      } finally {
        button.disabled = false;
      }
    };
    // A form, so that Enter signs in and the password field sits where browsers expect it;
    // it is never submitted (the page's policy forbids form actions anyway).
    const form = h('form', { class: 'login-form', novalidate: true, autocomplete: 'off' },
      h('label', { for: 'token-input', class: 'label', i18n: 'login.token' }), input, button);
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
    const card = h('section', { class: 'login card' },
      h('h1', { i18n: 'login.title' }),
      h('p', { id: 'login-lead', class: 'muted', i18n: 'login.lead' }),
      form, error);
    $('main').replaceChildren(h('div', { class: 'login-wrap' }, card));
    showLoginError(state.loginMessage);
    input.focus();
  }

  function showLoginError(text) {
    const el = $('login-error');
    if (el) el.textContent = text || '';
  }

  // ---------------------------------------------------------------- chat

  const chat = { root: null, busy: false, tasks: new Map(), blobs: [], assets: null, request: '', total: 0, finished: 0 };

  function resetChat() {
    chat.blobs.forEach((u) => URL.revokeObjectURL(u));
    chat.blobs = [];
    chat.root = null;
    chat.tasks = new Map();
    chat.busy = false;
  }

  function chatView() {
    if (!chat.root) buildChat();
    chat.send.disabled = chat.busy;
    chat.preview.disabled = chat.busy;
    guard(chat.send);
    applyI18n(chat.root);
    return chat.root;
  }

  function buildChat() {
    const input = h('textarea', { id: 'chat-input', class: 'input chat-input', testid: 'chat-input', rows: '3',
      ph: 'chat.placeholder' });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (isOwner()) runChat('run'); }
    });
    const preview = h('button', { type: 'button', class: 'btn', testid: 'chat-preview', i18n: 'chat.preview',
      onclick: () => runChat('preview') });
    const sendBtn = h('button', { type: 'button', class: 'btn btn-primary', testid: 'chat-send', i18n: 'chat.send',
      onclick: () => runChat('run') });
    const examples = h('div', { class: 'examples' }, tx('chat.try', null, 'muted'),
      [1, 2, 3, 4].map((i) => h('button', { type: 'button', class: 'chip', i18n: 'chat.ex' + i,
        onclick: (e) => { input.value = e.currentTarget.textContent; input.focus(); } })));
    const composer = h('div', { class: 'card composer' },
      h('label', { for: 'chat-input', class: 'label', i18n: 'chat.label' }),
      input,
      h('div', { class: 'composer-actions' }, tx('chat.hint', null, 'muted hint'), preview, sendBtn),
      examples);

    const ask = h('p', { class: 'ask' });
    const source = h('span', { class: 'source' });
    const progress = h('span', { class: 'progress', role: 'status' });
    const planView = h('ol', { class: 'plan-view', testid: 'plan-view', 'aria-live': 'polite' });
    const understood = h('div', { class: 'understood', hidden: true });
    const result = h('p', { class: 'chat-result', testid: 'chat-result', role: 'status', 'aria-live': 'polite' });
    const exchange = h('section', { class: 'card exchange', hidden: true },
      h('div', { class: 'ask-row' }, tx('chat.you', null, 'ask-label'), ask),
      h('div', { class: 'exchange-meta' }, source, progress),
      planView, understood, result);
    const historyList = h('ol', { class: 'history-list' });
    const historyBox = h('section', { class: 'history', hidden: true },
      h('h2', { i18n: 'chat.earlier' }), historyList);

    chat.root = h('section', { class: 'view view-chat' },
      h('div', { class: 'view-head' }, h('h1', { i18n: 'chat.title' }), h('p', { class: 'muted', i18n: 'chat.lead' })),
      composer, exchange, historyBox);
    Object.assign(chat, { input, preview, send: sendBtn, ask, source, progress, planView, understood, result,
      exchange, historyList, historyBox });
  }

  function setChatBusy(busy) {
    chat.busy = busy;
    chat.preview.disabled = busy;
    chat.send.disabled = busy;
    guard(chat.send);
    chat.exchange.classList.toggle('is-busy', busy);
  }

  async function runChat(mode) {
    if (chat.busy) return;
    if (mode === 'run' && !isOwner()) return;
    const text = chat.input.value.trim();
    if (!text) {
      chat.input.focus();
      chat.input.classList.add('is-invalid');
      setTimeout(() => chat.input.classList.remove('is-invalid'), 1500);
      chat.input.placeholder = t('chat.empty');
      return;
    }
    archiveExchange();
    startExchange(text);
    setChatBusy(true);
    // After a sign-out the chat is built anew; a reply still arriving for the old one is dropped.
    const root = chat.root;
    const live = () => chat.root === root;
    try {
      if (mode === 'preview') {
        const r = await api('POST', '/plan', { request: text });
        if (!live()) return;
        if (r.result === 'plan' && r.plan) {
          renderPlan(r.plan, r.source);
          finishLine('preview', [['chat.previewed', { n: (r.plan.tasks || []).length }]]);
        } else {
          showNotUnderstood(r);
        }
      } else {
        let ended = false;
        await streamChat(text, (ev) => {
          if (!live()) return;
          if (ev.event === 'result' || ev.event === 'error') ended = true;
          onChatEvent(ev);
        });
        if (!ended && live()) finishText('error', t('chat.cut'));
      }
    } catch (e) {
      if (live()) finishText('error', e.message);
    } finally {
      if (live()) {
        chat.progress.textContent = '';
        setChatBusy(false);
        if (mode === 'run') refreshGlobal();
      }
    }
  }

  function startExchange(text) {
    chat.blobs.forEach((u) => URL.revokeObjectURL(u));
    chat.blobs = [];
    chat.assets = null;
    chat.tasks = new Map();
    chat.request = text;
    chat.total = 0;
    chat.finished = 0;
    chat.ask.textContent = text;
    chat.source.replaceChildren();
    chat.planView.replaceChildren();
    chat.understood.replaceChildren();
    chat.understood.hidden = true;
    chat.result.replaceChildren();
    chat.result.className = 'chat-result';
    chat.result.dataset.state = 'running';
    chat.progress.replaceChildren(h('span', { class: 'spinner', 'aria-hidden': 'true' }), tx('chat.planning'));
    chat.exchange.hidden = false;
  }

  function archiveExchange() {
    if (!chat.request || chat.exchange.hidden) return;
    const item = h('li', { class: 'history-item' },
      h('p', { class: 'history-ask', text: chat.request }),
      h('p', { class: 'history-result s-text-' + (chat.result.dataset.state || ''), text: chat.result.textContent }));
    chat.historyList.prepend(item);
    while (chat.historyList.children.length > 20) chat.historyList.lastChild.remove();
    chat.historyBox.hidden = false;
  }

  function onChatEvent(ev) {
    switch (ev.event) {
      case 'planned':
        renderPlan(ev.plan || {}, ev.source);
        updateProgress();
        break;
      case 'started': {
        const row = ensureTask({ id: ev.task, employee: ev.employee, skill: ev.skill });
        setTaskStatus(row, 'running');
        break;
      }
      case 'finished':
        applyOutcome(ev.outcome || {}, ev.task);
        chat.finished += 1;
        updateProgress();
        break;
      case 'result': {
        const r = ev.result || {};
        if (r.result === 'ran') {
          if (r.plan && !chat.tasks.size) renderPlan(r.plan);
          (r.tasks || []).forEach((o) => applyOutcome(o));
          finishLine('done', ranLine(r, chat.total));
          const input = chat.input;
          if (input.value.trim() === chat.request) input.value = '';
        } else if (r.result === 'not_understood') {
          showNotUnderstood(r);
        } else {
          finishText('done', compactJson(r));
        }
        break;
      }
      case 'error':
        finishText('error', ev.error || t('err.status', { status: ev.status || '' }));
        break;
      default:
        break;
    }
  }

  function updateProgress() {
    if (!chat.busy) return;
    chat.progress.replaceChildren(h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      tx('chat.running', { done: chat.finished, total: chat.total }));
  }

  function renderPlan(plan, source) {
    chat.planView.replaceChildren();
    chat.tasks = new Map();
    (plan.tasks || []).forEach((task) => ensureTask(task));
    chat.total = (plan.tasks || []).length;
    if (source) {
      chat.source.replaceChildren(source === 'offline'
        ? tx('chat.source.offline', null, 'badge')
        : tx('chat.source.model', { name: source }, 'badge'));
    }
  }

  function ensureTask(task) {
    const id = task.id || '?';
    let row = chat.tasks.get(id);
    if (row) return row;
    row = taskRow(task, 'task-' + id);
    chat.tasks.set(id, row);
    chat.planView.append(row.el);
    return row;
  }

  // One task of a plan, as the chat and the plans page show it: status, who, skill, arguments,
  // and room for its outcome.
  function taskRow(task, testid) {
    const id = task.id || '?';
    const statusPill = pill('planned');
    const summary = h('p', { class: 'task-summary' });
    const extra = h('div', { class: 'task-extra' });
    const deps = (task.depends_on || []).filter(Boolean);
    const el = h('li', { class: 'task', testid, 'data-status': 'planned', 'data-task': id },
      h('div', { class: 'task-head' },
        statusPill,
        h('span', { class: 'task-id', text: id }),
        empSpan(task.employee || '', 'task-emp'),
        h('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
        codeEl(task.skill || '', 'task-skill'),
        task.skill && skillName(task.skill) ? h('span', { class: 'muted task-skill-name', text: skillName(task.skill) }) : null,
        deps.length ? tx('chat.waits', { deps: deps.join(', ') }, 'task-deps') : null),
      task.args !== undefined ? h('code', { class: 'task-args', text: compactJson(task.args) }) : null,
      summary, extra);
    return { id, el, pill: statusPill, summary, extra };
  }

  function setTaskStatus(row, status) {
    row.el.dataset.status = status;
    setPill(row.pill, status);
  }

  function applyOutcome(o, fallbackId) {
    const id = o.task_id || fallbackId;
    if (!id) return;
    const row = ensureTask({ id, employee: o.employee, skill: o.skill });
    showOutcome(row, o, { blobs: chat.blobs, assets: chatAssets });
  }

  // `media`: where the thumbnails' blob: URLs are kept, and how to find the assets.
  function showOutcome(row, o, media) {
    if (o.outcome === 'skipped') {
      setTaskStatus(row, 'skipped');
      row.summary.textContent = o.summary || '';
      row.extra.replaceChildren(o.because_of ? tx('chat.because', { task: o.because_of }, 'muted') : '');
      return;
    }
    setTaskStatus(row, o.status || 'done');
    row.summary.textContent = o.summary || '';
    const extra = [];
    if (o.rule && (o.status === 'denied' || o.status === 'pending')) extra.push(tx('chat.rule', { rule: o.rule }, 'rule'));
    if (o.approval_id !== null && o.approval_id !== undefined) {
      extra.push(h('a', { class: 'btn btn-small', href: '#/approvals' },
        tx('chat.approval', { id: o.approval_id }), ' → ', tx('chat.openApprovals')));
    }
    if (Array.isArray(o.files) && o.files.length) extra.push(fileStrip(o.files, media));
    row.extra.replaceChildren(...extra);
  }

  function fileStrip(files, media) {
    const strip = h('div', { class: 'files' });
    for (const path of files) {
      const fig = h('figure', { class: 'file' }, h('figcaption', { text: basename(path), title: path }));
      strip.append(fig);
      if (!/\.(svg|png|jpe?g|webp|gif)$/i.test(path)) continue;
      media.assets().then((list) => {
        const asset = list.find((a) => a.path === path) || list.find((a) => basename(a.path) === basename(path));
        if (!asset) return null;
        return assetUrl(asset.id, asset.media_type, media.blobs).then((url) => {
          fig.prepend(h('a', { href: '#/assets', class: 'file-thumb' }, h('img', { src: url, alt: asset.title || basename(path), loading: 'lazy' })));
        });
      }).catch(() => { /* the name is still shown */ });
    }
    return strip;
  }

  function chatAssets() {
    if (!chat.assets) chat.assets = api('GET', '/assets').then((r) => r.assets || []);
    return chat.assets;
  }

  function ranLine(r, planned) {
    const counts = { done: 0, pending: 0, denied: 0, failed: 0, skipped: 0 };
    const outcomes = r.tasks || [];
    for (const o of outcomes) {
      const s = o.outcome === 'skipped' ? 'skipped' : o.status;
      if (s in counts) counts[s] += 1;
    }
    const total = outcomes.length || planned || 0;
    const parts = [['chat.ran', { plan: r.plan_id, done: counts.done, total }]];
    for (const s of ['pending', 'denied', 'failed', 'skipped']) {
      if (counts[s]) parts.push(['chat.part.' + s, { n: counts[s] }]);
    }
    return parts;
  }

  function finishLine(stateName, parts) {
    chat.result.dataset.state = stateName;
    chat.result.className = 'chat-result is-' + stateName;
    chat.result.replaceChildren(...parts.map(([key, vars]) => tx(key, vars)));
  }

  function finishText(stateName, text) {
    chat.result.dataset.state = stateName;
    chat.result.className = 'chat-result is-' + stateName;
    chat.result.textContent = text;
  }

  function showNotUnderstood(r) {
    const asList = (items) => h('ul', null, (items || []).map((x) => h('li', { text: typeof x === 'string' ? x : compactJson(x) })));
    const blocks = [];
    if (r.understood && r.understood.length) blocks.push(h('div', null, h('h3', { i18n: 'chat.understood' }), asList(r.understood)));
    if (r.unclear && r.unclear.length) blocks.push(h('div', null, h('h3', { i18n: 'chat.unclear' }), asList(r.unclear)));
    chat.understood.replaceChildren(...blocks);
    chat.understood.hidden = !blocks.length;
    finishText('not_understood', r.answer || '');
  }

  // ---------------------------------------------------------------- pages

  function pageHead(titleKey, leadKey, ...extra) {
    return h('div', { class: 'view-head' }, h('h1', { i18n: titleKey }),
      leadKey ? h('p', { class: 'muted', i18n: leadKey }) : null, ...extra);
  }

  // Loads into `box`, keeping the old content until the new one is ready (no flicker, and
  // an element a test holds is replaced only once).
  async function fill(view, box, load, render) {
    if (!box.firstChild) box.replaceChildren(loadingEl());
    try {
      const data = await load();
      if (!view.alive) return;
      box.replaceChildren(...[render(data)].flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false));
    } catch (e) {
      if (!view.alive) return;
      box.replaceChildren(errorEl(e, () => fill(view, box, load, render)));
    }
  }

  // ---- plans

  function plansPage(view) {
    const list = h('div', { class: 'plans', testid: 'plans-list' });
    const media = { blobs: view.blobs, assets: null };
    media.assets = () => {
      if (!media.list) media.list = api('GET', '/assets').then((r) => r.assets || []);
      return media.list;
    };
    // Only one outcome is on the page at a time, under the plan it belongs to.
    let shown = null;
    let busy = false;

    const load = () => fill(view, list, async () => {
      // The work log says which tasks of a proposal were accepted before; the list is still
      // shown if it cannot be read.
      const [plans, log] = await Promise.all([api('GET', '/plans'),
        api('GET', '/log?kind=plan&limit=500').catch(() => ({ entries: [] }))]);
      return { plans: plans.plans || [], entries: log.entries || [] };
    }, ({ plans, entries }) => {
      const accepted = new Map();
      for (const e of entries) {
        const ids = e.details && Array.isArray(e.details.accepted) ? e.details.accepted : null;
        if (!ids || !ids.length || e.plan_id == null) continue;
        const seen = accepted.get(e.plan_id) || { tasks: new Set(), at: e.at };
        ids.forEach((id) => seen.tasks.add(id));
        if (String(e.at) > String(seen.at)) seen.at = e.at;
        accepted.set(e.plan_id, seen);
      }
      const proposals = plans.filter((p) => p.source === 'business_plan');
      const others = plans.filter((p) => p.source !== 'business_plan');
      return [
        h('h2', { class: 'section-title' }, tx('plans.proposals'),
          proposals.length ? h('span', { class: 'count', text: String(proposals.length) }) : null),
        proposals.length ? proposals.map((p) => proposalCard(p, accepted.get(p.id))) : emptyEl('plans.noProposals'),
        h('h2', { class: 'section-title' }, tx('plans.recent')),
        others.length ? others.map(planCard) : emptyEl('plans.noRecent'),
      ];
    });

    function planHead(p) {
      const tasks = (p.plan && p.plan.tasks) || [];
      const source = M['plans.source.' + p.source] ? tx('plans.source.' + p.source, null, 'badge') : h('span', { class: 'badge', text: p.source || '' });
      return h('header', { class: 'plan-head' },
        h('span', { class: 'approval-id', text: '#' + p.id }),
        source,
        timeEl(p.created_at, 'small muted'),
        tx('plans.tasks', { n: tasks.length }, 'small muted'));
    }

    function proposalCard(p, before) {
      const tasks = (p.plan && p.plan.tasks) || [];
      const out = h('div', { class: 'plan-outcome', hidden: true });
      const accept = guard(h('button', { type: 'button', class: 'btn btn-primary', testid: 'plan-accept-' + p.id }));
      const boxes = tasks.map((task) => guard(h('input', { type: 'checkbox', class: 'pick-box', checked: true,
        id: 'plan-' + p.id + '-task-' + task.id, testid: 'plan-' + p.id + '-task-' + task.id, value: task.id })));
      const label = () => {
        const n = boxes.filter((b) => b.checked).length;
        const all = n === boxes.length;
        accept.dataset.i18n = all ? 'plans.acceptAll' : 'plans.accept';
        accept.dataset.i18nArgs = JSON.stringify({ n });
        accept.textContent = t(accept.dataset.i18n, { n });
      };
      boxes.forEach((b) => b.addEventListener('change', label));
      label();
      accept.addEventListener('click', () => {
        const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
        if (!chosen.length) {
          const msg = outcomeBox(out);
          finish(msg, 'error', [tx('plans.pickNone')]);
          return;
        }
        // All of them: the whole proposal, as the API takes it.
        const body = chosen.length === boxes.length ? {} : { tasks: chosen };
        run(p, 'accept', body, accept, out, 'accepted-');
      });
      const picks = tasks.map((task, i) => {
        const deps = (task.depends_on || []).filter(Boolean);
        return h('li', { class: 'pick' },
          h('label', { class: 'pick-label', for: boxes[i].id }, boxes[i],
            h('span', { class: 'pick-text' },
              h('span', { class: 'task-head' },
                h('span', { class: 'task-id', text: task.id }),
                empSpan(task.employee || '', 'task-emp'),
                h('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
                codeEl(task.skill || '', 'task-skill'),
                skillName(task.skill) ? h('span', { class: 'muted task-skill-name', text: skillName(task.skill) }) : null,
                deps.length ? tx('chat.waits', { deps: deps.join(', ') }, 'task-deps') : null),
              task.args !== undefined ? h('code', { class: 'task-args', text: compactJson(task.args) }) : null)));
      });
      return h('article', { class: 'card plan-card is-proposal', testid: 'plan-' + p.id, 'data-source': p.source },
        planHead(p),
        h('h3', { class: 'plan-request', text: p.request || (p.plan && p.plan.request) || t('common.unnamed') }),
        before ? h('p', { class: 'small muted accepted-before', testid: 'plan-accepted-before-' + p.id },
          tx('plans.acceptedBefore', { at: fmtTime(before.at), tasks: [...before.tasks].join(', ') })) : null,
        tasks.length ? [h('p', { class: 'small muted', i18n: 'plans.pick' }), h('ul', { class: 'pick-list' }, picks)] : null,
        h('div', { class: 'plan-actions' }, accept, tx('plans.acceptHint', null, 'small muted')),
        out);
    }

    function planCard(p) {
      const tasks = (p.plan && p.plan.tasks) || [];
      const out = h('div', { class: 'plan-outcome', hidden: true });
      const resume = guard(h('button', { type: 'button', class: 'btn', testid: 'plan-resume-' + p.id, i18n: 'plans.resume' }));
      resume.addEventListener('click', () => run(p, 'resume', {}, resume, out, 'resumed-'));
      return h('article', { class: 'card plan-card', testid: 'plan-' + p.id, 'data-source': p.source },
        planHead(p),
        h('p', { class: 'plan-request quote', text: p.request || (p.plan && p.plan.request) || t('common.unnamed') }),
        tasks.length ? h('details', { class: 'entry-details' }, h('summary', null, tx('common.details')),
          h('ul', { class: 'plan-tasks' }, tasks.map((task) => h('li', null,
            h('span', { class: 'task-id', text: task.id }), ' ', empSpan(task.employee || ''), ' · ',
            codeEl(task.skill || ''), ' ', h('code', { class: 'task-args', text: compactJson(task.args) }),
            (task.depends_on || []).length ? [' ', tx('chat.waits', { deps: task.depends_on.join(', ') }, 'task-deps')] : null)))) : null,
        h('div', { class: 'plan-actions' }, resume, tx('plans.resumeHint', null, 'small muted')),
        out);
    }

    // The message line of an outcome: moved to the plan just acted on.
    function outcomeBox(out) {
      if (shown && shown !== out) { shown.replaceChildren(); shown.hidden = true; }
      shown = out;
      const msg = h('p', { class: 'chat-result', testid: 'plan-result', role: 'status', 'aria-live': 'polite' });
      const rows = h('ol', { class: 'plan-view', testid: 'plan-outcome' });
      out.replaceChildren(rows, msg);
      out.hidden = false;
      return msg;
    }

    function finish(msg, stateName, parts) {
      msg.dataset.state = stateName;
      msg.className = 'chat-result is-' + stateName;
      msg.replaceChildren(...parts);
    }

    async function run(p, verb, body, btn, out, prefix) {
      if (busy) return;
      busy = true;
      const msg = outcomeBox(out);
      const rows = msg.previousSibling;
      const buttons = [...list.querySelectorAll('[data-testid^="plan-accept-"], [data-testid^="plan-resume-"]')];
      buttons.forEach((b) => { b.disabled = true; });
      finish(msg, 'running', [h('span', { class: 'spinner', 'aria-hidden': 'true' }), tx('plans.running')]);
      try {
        const r = await api('POST', '/plans/' + encodeURIComponent(p.id) + '/' + verb, body);
        if (!view.alive) return;
        const byId = new Map();
        const row = (task) => {
          let x = byId.get(task.id);
          if (!x) {
            x = taskRow(task, prefix + p.id + '-' + task.id);
            byId.set(task.id, x);
            rows.append(x.el);
          }
          return x;
        };
        ((r.plan && r.plan.tasks) || []).forEach(row);
        (r.tasks || []).forEach((o) => {
          if (!o.task_id) return;
          showOutcome(row({ id: o.task_id, employee: o.employee, skill: o.skill }), o, media);
        });
        if (r.result === 'ran') finish(msg, 'done', ranLine(r, byId.size).map(([key, vars]) => tx(key, vars)));
        else finish(msg, 'done', [h('span', { text: compactJson(r) })]);
      } catch (e) {
        if (view.alive) finish(msg, 'error', [h('span', { text: e.message })]);
      } finally {
        busy = false;
        buttons.forEach((b) => { b.disabled = false; guard(b); });
        if (view.alive) msg.scrollIntoView({ block: 'nearest' });
        refreshGlobal();
      }
    }

    view.el.append(pageHead('plans.title', 'plans.lead'), list);
    load();
  }

  // ---- work log

  function logPage(view) {
    const empSelect = h('select', { id: 'log-employee', class: 'input', testid: 'log-filter-employee' },
      h('option', { value: '', i18n: 'log.allEmployees' }),
      state.employees.map((e) => h('option', { value: e.id, 'data-emp': e.id, text: empName(e.id) })));
    const kindSelect = h('select', { id: 'log-kind', class: 'input', testid: 'log-filter-kind' },
      h('option', { value: '', i18n: 'log.allKinds' }),
      KINDS.map((k) => h('option', { value: k, i18n: 'kind.' + k })));
    empSelect.value = state.logFilter.employee;
    kindSelect.value = state.logFilter.kind;
    const verifyBtn = h('button', { type: 'button', class: 'btn', testid: 'log-verify', i18n: 'log.verify' });
    const verifySlot = h('div', { class: 'verify-slot', 'aria-live': 'polite' });
    // Reading a checkpoint changes nothing, so a viewer may keep one too.
    const checkpointBtn = h('button', { type: 'button', class: 'btn', testid: 'log-checkpoint', i18n: 'log.checkpoint' });
    const checkpointSlot = h('div', { class: 'checkpoint-slot', 'aria-live': 'polite' });
    const list = h('ol', { class: 'timeline', testid: 'log-list' });
    const count = h('p', { class: 'muted small' });

    const load = () => {
      const q = new URLSearchParams();
      if (state.logFilter.employee) q.set('employee', state.logFilter.employee);
      if (state.logFilter.kind) q.set('kind', state.logFilter.kind);
      q.set('limit', '200');
      list.setAttribute('aria-busy', 'true');
      return fill(view, list, () => api('GET', '/log?' + q.toString()), (r) => {
        list.removeAttribute('aria-busy');
        const entries = r.entries || [];
        count.replaceChildren(tx('log.count', { n: entries.length }), ' · ', tx('common.timesIn', { tz: shopTz() || 'UTC' }));
        return entries.length ? entries.map(logEntry) : [h('li', { class: 'empty' }, tx('log.empty'))];
      });
    };
    const verify = async () => {
      verifyBtn.disabled = true;
      verifySlot.replaceChildren(h('span', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), tx('log.verifying')));
      try {
        const r = await api('GET', '/log/verify');
        if (view.alive) verifySlot.replaceChildren(verifyStatus(r));
      } catch (e) {
        if (view.alive) verifySlot.replaceChildren(errorEl(e));
      } finally {
        verifyBtn.disabled = false;
      }
    };
    empSelect.addEventListener('change', () => { state.logFilter.employee = empSelect.value; load(); });
    kindSelect.addEventListener('change', () => { state.logFilter.kind = kindSelect.value; load(); });
    verifyBtn.addEventListener('click', verify);
    checkpointBtn.addEventListener('click', async () => {
      checkpointBtn.disabled = true;
      if (!checkpointSlot.firstChild) checkpointSlot.replaceChildren(loadingEl());
      try {
        const r = await api('GET', '/log/checkpoint');
        if (view.alive) checkpointSlot.replaceChildren(checkpointView(r, view));
      } catch (e) {
        if (view.alive) checkpointSlot.replaceChildren(errorEl(e));
      } finally {
        checkpointBtn.disabled = false;
      }
    });

    view.el.append(
      pageHead('log.title', 'log.lead'),
      h('div', { class: 'toolbar card' },
        h('label', { class: 'field' }, tx('log.employee', null, 'label'), empSelect),
        h('label', { class: 'field' }, tx('log.kind', null, 'label'), kindSelect),
        h('div', { class: 'field field-end' }, h('div', { class: 'tool-buttons' }, verifyBtn, checkpointBtn))),
      verifySlot, checkpointSlot, count, list);
    load();
    verify();
  }

  function verifyStatus(r) {
    const status = r.status === 'ok' ? 'ok' : r.status === 'broken' ? 'broken' : String(r.status || 'broken');
    const box = h('div', { class: 'verify verify-' + status, testid: 'verify-status', 'data-status': status, role: 'status' });
    if (status === 'ok') {
      box.append(pill('ok'), ' ',
        r.checkpoints !== undefined ? tx('log.ok', { entries: r.entries, checkpoints: r.checkpoints }) : tx('log.okShort', { entries: r.entries }));
      const hashes = h('div', { class: 'hashes' });
      if (r.head) hashes.append(h('span', null, tx('log.head'), ' ', h('code', { text: String(r.head).slice(0, 16), title: r.head })));
      if (r.root) hashes.append(h('span', null, tx('log.root'), ' ', h('code', { text: String(r.root).slice(0, 16), title: r.root })));
      box.append(hashes);
    } else {
      box.append(pill('broken'), ' ', tx('log.broken', { seq: r.seq, problem: r.problem || '' }));
    }
    return box;
  }

  // The checkpoint's text as `shopcrew log checkpoint` prints it: to copy, or to save as a file.
  function checkpointView(r, view) {
    const text = String(r.text || '');
    const cp = r.checkpoint || {};
    const area = h('textarea', { class: 'input mono checkpoint-text', testid: 'checkpoint-text', readonly: true,
      rows: String(Math.max(4, text.split('\n').length)), spellcheck: 'false', wrap: 'soft', aria: 'log.cpTitle' });
    area.value = text;
    area.addEventListener('focus', () => area.select());
    const copied = h('span', { class: 'small muted', role: 'status', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', class: 'btn btn-small', testid: 'checkpoint-copy', i18n: 'log.cpCopy' });
    copy.addEventListener('click', async () => {
      let ok = false;
      try {
        if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); ok = true; }
      } catch { ok = false; }
      if (!ok) {
        area.focus();
        area.select();
        try { ok = document.execCommand('copy'); } catch { ok = false; }
      }
      copied.className = 'small ' + (ok ? 'ok-text' : 'bad-text');
      copied.dataset.i18n = ok ? 'log.cpCopied' : 'log.cpCopyFailed';
      copied.textContent = t(copied.dataset.i18n);
    });
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    view.blobs.push(url);
    const shop = String(cp.origin || '').split('/').pop().replace(/[^\w-]+/g, '') || 'shop';
    const file = 'shopcrew-checkpoint-' + shop + (cp.size != null ? '-' + cp.size : '') + '.txt';
    const download = h('a', { class: 'btn btn-small', testid: 'checkpoint-download', href: url, download: file, i18n: 'log.cpDownload' });
    return h('section', { class: 'card checkpoint', testid: 'checkpoint' },
      h('h2', { i18n: 'log.cpTitle' }),
      h('p', { class: 'small muted', i18n: 'log.cpLead' }),
      cp.size != null ? h('p', { class: 'small' }, tx('log.cpMeta', { size: cp.size, at: fmtTime(cp.at) })) : null,
      area,
      h('div', { class: 'checkpoint-actions' }, copy, download, h('span', { class: 'small muted mono', text: file }), copied),
      r.public_key ? h('p', { class: 'small checkpoint-key' }, tx('log.cpKey', null, 'muted'), ' ',
        h('code', { testid: 'checkpoint-key', text: r.public_key })) : null);
  }

  function logEntry(e) {
    const who = [];
    if (e.actor && e.actor !== 'employee') who.push(h('span', { class: 'actor', 'data-emp': e.actor, text: empName(e.actor) }));
    if (e.employee) who.push(empSpan(e.employee, 'actor'));
    const ref = e.plan_id ? '#' + e.plan_id + (e.task_id ? '/' + e.task_id : '') : '';
    const hasDetails = e.details && typeof e.details === 'object' && Object.keys(e.details).length > 0;
    return h('li', { class: 'entry k-' + e.kind, testid: 'log-entry', 'data-kind': e.kind, 'data-seq': e.seq },
      h('div', { class: 'entry-head' },
        h('span', { class: 'seq', text: '#' + e.seq }),
        timeEl(e.at),
        h('span', { class: 'kind kind-' + e.kind, i18n: M['kind.' + e.kind] ? 'kind.' + e.kind : null, text: M['kind.' + e.kind] ? null : e.kind }),
        who.length ? h('span', { class: 'who' }, who.flatMap((w, i) => (i ? [' · ', w] : [w]))) : null,
        ref ? h('span', { class: 'ref', text: ref }) : null,
        e.amount !== null && e.amount !== undefined ? h('span', { class: 'amount', text: fmtMoney(e.amount) }) : null),
      h('p', { class: 'entry-summary', text: e.summary || '' }),
      hasDetails || e.skill
        ? h('details', { class: 'entry-details' },
          h('summary', null, tx('common.details'), e.skill ? h('code', { class: 'skill', text: e.skill }) : null),
          hasDetails ? jsonPre(e.details) : null)
        : null);
  }

  // ---- approvals

  function approvalsPage(view) {
    const result = h('div', { class: 'msg', testid: 'approval-result', role: 'status', 'aria-live': 'polite', hidden: true });
    const list = h('div', { class: 'approvals', testid: 'approvals-list' });
    const load = () => fill(view, list, () => api('GET', '/approvals?all=true'), (r) => {
      const all = r.approvals || [];
      const waiting = all.filter((a) => a.status === 'pending');
      const decided = all.filter((a) => a.status !== 'pending');
      state.pending = waiting.length;
      renderNotices();
      return [
        h('h2', { class: 'section-title' }, tx('ap.waiting'), waiting.length ? h('span', { class: 'count', text: String(waiting.length) }) : null),
        waiting.length ? waiting.map((a) => approvalCard(a, act)) : emptyEl('ap.noneWaiting'),
        h('h2', { class: 'section-title' }, tx('ap.decided')),
        decided.length ? decided.map((a) => approvalCard(a, act)) : emptyEl('ap.noneDecided'),
      ];
    });
    const act = async (a, verb, reason, buttons) => {
      buttons.forEach((b) => { b.disabled = true; });
      try {
        if (verb === 'approve') {
          const r = await api('POST', '/approvals/' + a.id + '/approve', {});
          const parts = [pill(r.status || 'done'), ' ', tx('ap.approved', { id: a.id, status: t('status.' + (r.status || 'done')) })];
          if (r.summary) parts.push(' — ', h('span', { text: r.summary }));
          if (Array.isArray(r.resumed) && r.resumed.length) {
            parts.push(h('div', { class: 'resumed' }, tx('ap.resumed', null, 'muted'),
              h('ul', null, r.resumed.map((o) => h('li', null,
                pill(o.outcome === 'skipped' ? 'skipped' : (o.status || 'done')), ' ',
                o.task_id ? h('span', { class: 'task-id', text: o.task_id }) : null, ' ',
                o.employee ? empSpan(o.employee) : null, ' ',
                h('span', { text: o.summary || '' }))))));
          }
          say(result, r.status === 'done' ? 'ok' : r.status === 'pending' ? 'info' : 'error', ...parts);
          result.dataset.status = r.status || 'done';
        } else {
          const body = reason ? { reason } : {};
          await api('POST', '/approvals/' + a.id + '/reject', body);
          say(result, 'ok', tx('ap.rejected', { id: a.id }));
          result.dataset.status = 'rejected';
        }
      } catch (e) {
        say(result, 'error', e.message);
        result.dataset.status = 'error';
      }
      await load();
      refreshGlobal();
    };
    view.el.append(pageHead('ap.title', 'ap.lead'), result, list);
    load();
  }

  function approvalCard(a, act) {
    const meta = (key, value) => (value ? h('div', { class: 'meta-item' }, h('dt', { i18n: key }), h('dd', null, value)) : null);
    const plan = a.plan_id ? '#' + a.plan_id + (a.task_id ? ' / ' + a.task_id : '') : null;
    const card = h('article', { class: 'card approval s-border-' + a.status, testid: 'approval-' + a.id, 'data-status': a.status },
      h('header', { class: 'approval-head' },
        h('span', { class: 'approval-id', text: '#' + a.id }),
        pill(a.status),
        empSpan(a.employee, 'approval-emp'),
        h('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
        codeEl(a.skill, 'approval-skill'),
        skillName(a.skill) ? h('span', { class: 'muted', text: skillName(a.skill) }) : null),
      a.reason ? h('p', { class: 'approval-reason', text: loc(a.reason) }) : null,
      h('div', { class: 'args' }, h('div', { class: 'label', i18n: 'ap.args' }), jsonPre(a.args)),
      h('dl', { class: 'meta' },
        meta('ap.rule', a.rule ? codeEl(a.rule) : null),
        meta('ap.plan', plan),
        meta('ap.created', a.created_at ? timeEl(a.created_at) : null),
        meta('ap.expires', a.status === 'pending' && a.expires_at ? timeEl(a.expires_at) : null),
        meta('ap.decidedAt', a.decided_at ? timeEl(a.decided_at) : null),
        meta('ap.digest', a.digest ? h('code', { text: String(a.digest).slice(0, 16) + '…', title: a.digest }) : null),
        meta('ap.note', a.note ? h('span', { text: a.note }) : null)));
    if (a.status === 'pending') {
      const reason = guard(h('input', { type: 'text', class: 'input', aria: 'ap.reason', ph: 'ap.reason',
        testid: 'reject-reason-' + a.id, maxlength: '500' }));
      const reject = guard(h('button', { type: 'button', class: 'btn btn-danger-outline', testid: 'reject-' + a.id, i18n: 'ap.reject' }));
      const approve = guard(h('button', { type: 'button', class: 'btn btn-primary', testid: 'approve-' + a.id, i18n: 'ap.approve' }));
      const buttons = [reject, approve];
      reject.addEventListener('click', () => act(a, 'reject', reason.value.trim(), buttons));
      approve.addEventListener('click', () => act(a, 'approve', '', buttons));
      card.append(h('div', { class: 'approval-actions' }, reason, reject, approve));
    }
    return card;
  }

  // ---- permissions

  function permsPage(view) {
    const result = h('div', { class: 'msg', testid: 'perms-result', role: 'status', 'aria-live': 'polite', hidden: true });
    const ksState = h('p', { class: 'ks-state' });
    const version = h('span', { class: 'muted small' });
    const pauseAll = guard(h('button', { type: 'button', class: 'btn btn-danger', testid: 'pause-all', i18n: 'perms.pauseAll' }));
    const resumeAll = guard(h('button', { type: 'button', class: 'btn', testid: 'resume-all', i18n: 'perms.resumeAll' }));
    const ledgerBox = h('section', { class: 'card ledger', testid: 'ledger-caps' });
    const rulesBox = h('div', { class: 'shop-rules' });
    const employeesBox = h('div', { class: 'perm-grid', testid: 'perms-employees' });
    const historyBox = h('div', { class: 'history-box', testid: 'perms-history' });
    const explainFor = h('select', { id: 'explain-employee', class: 'input', testid: 'perms-explain-employee' },
      h('option', { value: '', i18n: 'log.allEmployees' }),
      state.employees.map((e) => h('option', { value: e.id, 'data-emp': e.id, text: empName(e.id) })));
    const explainVersion = h('span', { class: 'muted small' });
    const explainText = h('pre', { class: 'json explain', testid: 'perms-explain', tabindex: '0', aria: 'perms.explain' });
    const explainBox = h('div', { class: 'explain-box' }, explainText);
    // The newest answer wins when the choice changes quickly.
    let explainSeq = 0;
    const loadExplain = async () => {
      const seq = ++explainSeq;
      const who = explainFor.value;
      explainText.setAttribute('aria-busy', 'true');
      try {
        const r = await api('GET', '/perms/explain' + (who ? '?employee=' + encodeURIComponent(who) : ''));
        if (!view.alive || seq !== explainSeq) return;
        explainText.textContent = r.text || '';
        explainText.dataset.employee = who;
        explainVersion.replaceChildren(tx('perms.version', { v: r.version ?? 0 }));
        explainBox.replaceChildren(explainText);
      } catch (e) {
        if (!view.alive || seq !== explainSeq) return;
        explainBox.replaceChildren(errorEl(e, loadExplain));
      } finally {
        if (seq === explainSeq) explainText.removeAttribute('aria-busy');
      }
    };
    explainFor.addEventListener('change', loadExplain);

    const grantEmployee = guard(h('select', { id: 'grant-employee', class: 'input', testid: 'grant-employee' }));
    const grantSetting = guard(h('input', { id: 'grant-setting', class: 'input mono', testid: 'grant-setting', type: 'text',
      list: 'knob-list', placeholder: 'max_discount_pct=30', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' }));
    const grantUntil = guard(h('input', { id: 'grant-until', class: 'input', testid: 'grant-until', type: 'date' }));
    const grantSubmit = guard(h('button', { type: 'button', class: 'btn btn-primary', testid: 'grant-submit', i18n: 'perms.grantSubmit' }));
    const knobList = h('datalist', { id: 'knob-list' }, KNOBS.map((k) => h('option', { value: k + '=' })));
    const knobHelp = h('ul', { class: 'knob-help' }, KNOBS.map((k) => h('li', null,
      h('button', { type: 'button', class: 'link mono', text: k, disabled: !isOwner(),
        onclick: () => { grantSetting.value = k + '='; grantSetting.focus(); } }),
      ' ', tx('knob.' + k, null, 'muted'))));

    const data = { perms: null, history: [] };

    const load = async () => {
      loadExplain();
      const [perms, hist, ledger] = await Promise.allSettled([
        api('GET', '/perms'), api('GET', '/perms/history'), api('GET', '/ledger')]);
      if (!view.alive) return;
      if (perms.status === 'fulfilled') {
        data.perms = perms.value;
        state.paused = !!(perms.value.policy && perms.value.policy.paused);
        renderNotices();
        renderPolicy();
      } else {
        employeesBox.replaceChildren(errorEl(perms.reason, load));
      }
      if (hist.status === 'fulfilled') {
        data.history = hist.value.changes || [];
        historyBox.replaceChildren(historyTable(data.history));
      } else {
        historyBox.replaceChildren(errorEl(hist.reason, load));
      }
      if (ledger.status === 'fulfilled') ledgerBox.replaceChildren(...ledgerView(ledger.value));
      else ledgerBox.replaceChildren(h('h2', { i18n: 'perms.ledger' }), errorEl(ledger.reason, load));
    };

    const mutate = async (path, body, done, controls) => {
      (controls || []).forEach((c) => { c.disabled = true; });
      try {
        const r = await api('POST', path, body);
        say(result, 'ok', done(r.version));
        result.dataset.status = 'ok';
      } catch (e) {
        say(result, 'error', e.message);
        result.dataset.status = 'error';
      } finally {
        (controls || []).forEach((c) => { c.disabled = false; guard(c); });
      }
      await load();
      refreshGlobal();
      return !result.classList.contains('msg-error');
    };
    const who = (id) => (id === 'all' ? t('perms.everyone') : empName(id));
    const pause = (id, btn) => mutate('/perms/pause', { who: id },
      (v) => tx('perms.done.pause', { who: who(id), v }), [btn]);
    const resume = (id, btn) => mutate('/perms/resume', { who: id },
      (v) => tx('perms.done.resume', { who: who(id), v }), [btn]);
    const revoke = (emp, skill, btn) => mutate('/perms/revoke', { employee: emp, pattern: skill },
      (v) => tx('perms.done.revoke', { who: empName(emp), skill, v }), [btn]);
    const grant = (emp, setting, until, controls) => mutate('/perms/grant', { employee: emp, setting, until: until || null },
      (v) => tx('perms.done.grant', { who: empName(emp), setting, v }), controls);

    pauseAll.addEventListener('click', () => pause('all', pauseAll));
    resumeAll.addEventListener('click', () => resume('all', resumeAll));
    const submitGrant = async () => {
      const setting = grantSetting.value.trim();
      const m = /^([\w.]+)\s*=\s*(\S.*)$/.exec(setting);
      if (!m) { say(result, 'error', t('perms.badSetting')); result.dataset.status = 'error'; grantSetting.focus(); return; }
      const ok = await grant(grantEmployee.value, m[1] + '=' + m[2].trim(), grantUntil.value,
        [grantSubmit, grantSetting, grantUntil, grantEmployee]);
      if (ok) { grantSetting.value = ''; grantUntil.value = ''; }
    };
    grantSubmit.addEventListener('click', submitGrant);
    grantSetting.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); if (isOwner()) submitGrant(); } });

    function employeeIds(policy) {
      const ids = Object.keys((policy && policy.employees) || {});
      const order = state.employees.map((e) => e.id);
      const known = order.filter((id) => ids.includes(id));
      return known.concat(ids.filter((id) => !order.includes(id)));
    }

    function renderPolicy() {
      const perms = data.perms || {};
      const policy = perms.policy || {};
      const paused = !!policy.paused;
      ksState.replaceChildren(pill(paused ? 'paused' : 'active'), ' ', tx(paused ? 'perms.allPaused' : 'perms.allRunning'));
      ksState.closest('.killswitch').classList.toggle('is-paused', paused);
      version.replaceChildren(tx('perms.version', { v: perms.version ?? 0 }));
      const b = policy.budget || {};
      rulesBox.replaceChildren(h('ul', { class: 'rule-list' },
        policy.min_margin !== undefined && policy.min_margin !== null ? h('li', null, tx('perms.minMargin', { v: policy.min_margin })) : null,
        b.max_campaign !== undefined && b.max_campaign !== null ? h('li', null, tx('perms.maxCampaign', { v: fmtMoney(b.max_campaign) })) : null,
        b.approval_expiry_hours ? h('li', null, tx('perms.expiry', { v: b.approval_expiry_hours })) : null));
      const ids = employeeIds(policy);
      employeesBox.replaceChildren(...ids.map((id) => employeeCard(id, policy.employees[id], perms.changes || [], paused)));
      // The grant form keeps its choice across refreshes.
      const chosen = grantEmployee.value;
      grantEmployee.replaceChildren(...ids.map((id) => h('option', { value: id, 'data-emp': id, text: empName(id) })));
      if (ids.includes(chosen)) grantEmployee.value = chosen;
    }

    // `allPaused`: the kill switch stops this employee too, whatever its own setting.
    function employeeCard(id, rules, changes, allPaused) {
      rules = rules || {};
      const patterns = rules.skills || [];
      const revoked = rules.revoked || [];
      const catalog = allSkills();
      const allowed = catalog.filter((s) => patterns.some((p) => globMatch(p, s)) && !revoked.some((p) => globMatch(p, s)));
      const paused = !!rules.paused || !!allPaused;
      const pauseBtn = guard(h('button', { type: 'button', class: 'btn btn-small', testid: 'perm-pause-' + id, i18n: 'perms.pause' }));
      const resumeBtn = guard(h('button', { type: 'button', class: 'btn btn-small', testid: 'perm-resume-' + id, i18n: 'perms.resume' }));
      pauseBtn.addEventListener('click', () => pause(id, pauseBtn));
      resumeBtn.addEventListener('click', () => resume(id, resumeBtn));
      (paused ? pauseBtn : resumeBtn).classList.add('btn-quiet');

      const skillRows = allowed.map((s) => {
        const btn = guard(h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', testid: 'revoke-' + id + '-' + s, i18n: 'perms.revoke' }));
        btn.addEventListener('click', () => revoke(id, s, btn));
        return h('li', { class: 'skill-row', 'data-skill': s },
          h('span', { class: 'skill-text' }, codeEl(s), skillName(s) ? h('span', { class: 'muted small', text: skillName(s) }) : null),
          btn);
      });
      const revokedRows = revoked.map((p) => {
        const btn = guard(h('button', { type: 'button', class: 'btn btn-small', testid: 'restore-' + id + '-' + p, i18n: 'perms.giveBack' }));
        btn.addEventListener('click', () => grant(id, 'skills=' + p, null, [btn]));
        return h('li', { class: 'skill-row is-revoked' }, h('span', { class: 'skill-text' }, codeEl(p)), btn);
      });
      const caps = CAPS.filter(([field]) => rules[field] !== null && rules[field] !== undefined).map(([field, knob, unit]) => {
        const until = activeUntil(changes, id, knob);
        return h('div', { class: 'cap' },
          h('dt', { i18n: 'knob.' + knob }),
          h('dd', null, h('strong', { text: fmtCap(rules[field], unit) }),
            until ? h('span', { class: 'until' }, ' ', untilEl(until)) : null));
      });
      const modes = Object.entries(rules.modes || {});
      return h('article', { class: 'card perm' + (paused ? ' is-paused' : ''), testid: 'perm-' + id, 'data-paused': String(paused) },
        h('header', { class: 'perm-head' },
          h('h3', null, empSpan(id), ' ', h('code', { class: 'muted small', text: id })),
          pill(paused ? 'paused' : 'active'),
          h('span', { class: 'perm-actions' }, pauseBtn, resumeBtn)),
        h('p', { class: 'small' }, tx('perms.allowList', null, 'muted'), ' ',
          patterns.length ? patterns.map((p) => codeEl(p, 'chip-code')) : tx('common.none', null, 'muted')),
        h('h4', { i18n: 'perms.allowed' }),
        skillRows.length ? h('ul', { class: 'skill-list' }, skillRows) : emptyEl('perms.noSkills'),
        revokedRows.length ? [h('h4', { i18n: 'perms.revoked' }), h('ul', { class: 'skill-list' }, revokedRows)] : null,
        h('h4', { i18n: 'perms.caps' }),
        caps.length ? h('dl', { class: 'caps' }, caps) : emptyEl('perms.noCaps'),
        modes.length ? [h('h4', { i18n: 'perms.modes' }), h('dl', { class: 'caps' }, modes.map(([skill, mode]) =>
          h('div', { class: 'cap' }, h('dt', null, codeEl(skill)), h('dd', null, M['mode.' + mode] ? tx('mode.' + mode) : mode))))] : null);
    }

    function ledgerView(l) {
      const bar = (spent, cap) => {
        const ratio = cap > 0 ? Math.min(1, spent / cap) : 0;
        const fill = h('span', { class: 'bar-fill' + (ratio >= 1 ? ' is-full' : ratio >= 0.8 ? ' is-high' : '') });
        fill.style.width = (ratio * 100).toFixed(1) + '%';
        return h('span', { class: 'bar', role: 'img', 'aria-label': fmtMoney(spent) + ' / ' + fmtMoney(cap) }, fill);
      };
      const row = (labelNode, spent, cap) => h('div', { class: 'ledger-row' },
        h('div', { class: 'ledger-label' }, labelNode),
        h('div', { class: 'ledger-figure' }, tx('perms.ofCap', { spent: fmtMoney(spent), cap: fmtMoney(cap) })),
        bar(Number(spent) || 0, Number(cap) || 0));
      const parts = [h('h2', { i18n: 'perms.ledger' }),
        row(tx('perms.today', { date: l.today || '' }), l.spent_today, l.daily_cap),
        row(tx('perms.month'), l.spent_month, l.monthly_cap)];
      if (l.approval_above !== null && l.approval_above !== undefined) {
        parts.push(h('p', { class: 'small' }, tx('perms.approvalAbove', { amount: fmtMoney(l.approval_above) })));
      }
      if (typeof l.reconciled === 'boolean') {
        parts.push(h('p', { class: 'small ' + (l.reconciled ? 'ok-text' : 'bad-text') },
          pill(l.reconciled ? 'ok' : 'broken'), ' ', tx(l.reconciled ? 'perms.reconciled' : 'perms.unreconciled')));
      }
      if (Array.isArray(l.employees) && l.employees.length) {
        parts.push(h('h3', { i18n: 'perms.perEmployee' }), h('ul', { class: 'plain-list' }, l.employees.map((e) =>
          h('li', null, empSpan(e.employee), ': ', tx('perms.empSpend', { today: fmtMoney(e.today), month: fmtMoney(e.month) })))));
      }
      if (Array.isArray(l.campaigns) && l.campaigns.length) {
        parts.push(h('h3', { i18n: 'perms.campaigns' }), h('ul', { class: 'plain-list' }, l.campaigns.map((c) =>
          h('li', null, h('span', { text: '#' + c.id + ' ' + (c.name || '') }), ' ', h('span', { class: 'badge', text: c.status || '' }), ' ',
            h('span', { class: 'muted' }, tx('perms.campaignSpent', { spent: fmtMoney(c.spent), total: fmtMoney(c.total_budget) }))))));
      }
      return parts;
    }

    function historyTable(changes) {
      if (!changes.length) return emptyEl('perms.noHistory');
      const sorted = changes.slice().sort((a, b) => (b.version || 0) - (a.version || 0));
      const rows = sorted.map((c) => {
        let what = '';
        if (c.kind === 'grant') what = (c.knob || '') + '=' + (c.value ?? '');
        else if (c.kind === 'revoke') what = c.pattern || '';
        return {
          attrs: { 'data-version': c.version, 'data-kind': c.kind },
          cells: [
            h('span', { class: 'mono', text: String(c.version ?? '') }),
            timeEl(c.at),
            M['change.' + c.kind] ? h('span', { class: 'change change-' + c.kind, i18n: 'change.' + c.kind }) : h('span', { text: c.kind || '' }),
            c.employee ? empSpan(c.employee) : tx('perms.everyone'),
            what ? codeEl(what) : '',
            c.kind === 'grant' ? (c.until ? untilEl(c.until, true) : tx('perms.forGood', null, 'muted')) : '',
          ],
        };
      });
      return table([
        { label: 'perms.h.version' }, { label: 'perms.h.at' }, { label: 'perms.h.kind' },
        { label: 'perms.h.employee' }, { label: 'perms.h.what' }, { label: 'perms.h.until' }], rows);
    }

    view.el.append(
      pageHead('perms.title', 'perms.lead'),
      result,
      h('section', { class: 'card killswitch' },
        h('div', { class: 'ks-text' }, h('h2', { i18n: 'perms.killswitch' }), ksState, version),
        h('div', { class: 'ks-actions' }, pauseAll, resumeAll)),
      h('div', { class: 'two-col' }, ledgerBox,
        h('section', { class: 'card' }, h('h2', { i18n: 'perms.shopRules' }), rulesBox)),
      h('h2', { class: 'section-title', i18n: 'perms.employees' }),
      employeesBox,
      h('section', { class: 'card grant' },
        h('h2', { i18n: 'perms.grant' }),
        h('p', { class: 'muted small', i18n: 'perms.grantLead' }),
        h('div', { class: 'grant-form' },
          h('label', { class: 'field' }, tx('perms.grantEmployee', null, 'label'), grantEmployee),
          h('label', { class: 'field field-grow' }, tx('perms.grantSetting', null, 'label'), grantSetting),
          h('label', { class: 'field' }, tx('perms.grantUntil', null, 'label'), grantUntil),
          h('div', { class: 'field field-end' }, grantSubmit)),
        knobList,
        h('details', { class: 'knobs' }, h('summary', { i18n: 'perms.knobs' }), knobHelp)),
      h('section', { class: 'card explain-card' },
        h('div', { class: 'explain-head' },
          h('div', null, h('h2', { i18n: 'perms.explain' }), h('p', { class: 'muted small', i18n: 'perms.explainLead' }), explainVersion),
          h('label', { class: 'field' }, tx('perms.explainFor', null, 'label'), explainFor)),
        explainBox),
      h('section', { class: 'card' }, h('h2', { i18n: 'perms.history' }), historyBox));
    employeesBox.append(loadingEl());
    explainText.append(loadingEl());
    load();
  }

  function allSkills() {
    const set = new Set();
    state.skills.forEach((s) => s && s.id && set.add(s.id));
    state.employees.forEach((e) => (e.skills || []).forEach((s) => { if (!s.includes('*')) set.add(s); }));
    return [...set].sort();
  }

  // The newest grant still in force for this knob, if it ends at a time.
  function activeUntil(changes, employee, knob) {
    let until = null;
    for (const c of changes) {
      if (c.kind === 'grant' && c.employee === employee && c.knob === knob) until = c.until || null;
    }
    return until;
  }

  // ---- schedules

  function schedulesPage(view) {
    const result = h('div', { class: 'msg', testid: 'schedule-result', role: 'status', 'aria-live': 'polite', hidden: true });
    // The one message line sits next to what it answers: above the table, or under the form.
    const topSlot = h('div', { class: 'result-slot' }, result);
    const formSlot = h('div', { class: 'result-slot' });
    const here = (slot) => { if (result.parentNode !== slot) slot.append(result); };
    const list = h('div', { class: 'schedules', testid: 'schedules-list' });
    const runsBox = h('div', { class: 'runs' });
    const load = () => Promise.all([
      fill(view, list, () => api('GET', '/schedules'), (r) => scheduleTable(r.schedules || [])),
      fill(view, runsBox, () => api('GET', '/schedules/runs'), (r) => runsTable(r.runs || [])),
    ]);
    const act = async (s, verb, btn) => {
      btn.disabled = true;
      here(topSlot);
      try {
        const path = '/schedules/' + encodeURIComponent(s.name);
        const r = verb === 'remove' ? await api('DELETE', path) : await api('POST', path + '/' + verb, {});
        if (verb === 'remove') {
          // The table is read again first: once the message shows, the row is gone.
          await load();
          say(result, 'ok', tx('sched.removed', { name: s.name }));
          result.dataset.status = 'ok';
        } else if (verb === 'run') {
          const status = r.status || 'done';
          say(result, status === 'done' ? 'ok' : status === 'pending' ? 'info' : 'error',
            pill(status), ' ', h('strong', { text: s.name }), ': ', h('span', { text: r.summary || '' }),
            Array.isArray(r.files) && r.files.length ? h('div', { class: 'small muted', text: r.files.join(', ') }) : '');
          result.dataset.status = status;
        } else {
          say(result, 'ok', tx(verb === 'pause' ? 'sched.paused' : 'sched.resumed', { name: s.name }));
          result.dataset.status = 'ok';
        }
      } catch (e) {
        say(result, 'error', e.message);
        result.dataset.status = 'error';
      } finally {
        btn.disabled = false;
        guard(btn);
      }
      // A removal read the table again already, unless it failed (the table may be stale).
      if (verb !== 'remove' || result.dataset.status === 'error') await load();
      refreshGlobal();
    };

    function scheduleTable(items) {
      if (!items.length) return emptyEl('sched.none');
      const rows = items.map((s) => {
        const pauseBtn = guard(h('button', { type: 'button', class: 'btn btn-small' + (s.enabled ? '' : ' btn-quiet'), testid: 'schedule-pause-' + s.name, i18n: 'sched.pause' }));
        const resumeBtn = guard(h('button', { type: 'button', class: 'btn btn-small' + (s.enabled ? ' btn-quiet' : ''), testid: 'schedule-resume-' + s.name, i18n: 'sched.resume' }));
        const runBtn = guard(h('button', { type: 'button', class: 'btn btn-small btn-primary', testid: 'schedule-run-' + s.name, i18n: 'sched.run' }));
        pauseBtn.addEventListener('click', () => act(s, 'pause', pauseBtn));
        resumeBtn.addEventListener('click', () => act(s, 'resume', resumeBtn));
        runBtn.addEventListener('click', () => act(s, 'run', runBtn));
        const removeBtn = guard(twoStep(h('button', { type: 'button', class: 'btn btn-small', testid: 'schedule-remove-' + s.name }),
          'sched.remove', 'sched.removeConfirm', () => act(s, 'remove', removeBtn)));
        return {
          attrs: { testid: 'schedule-' + s.name, 'data-enabled': String(!!s.enabled), class: s.enabled ? '' : 'is-off' },
          cells: [
            h('strong', { class: 'sched-name', text: s.name }),
            h('div', null, cronText(s.cron), h('div', null, codeEl(s.cron, 'small')),
              h('div', { class: 'small muted' }, tx('sched.next'), ': ', s.enabled ? timeEl(s.next_run_at) : '—')),
            s.employee ? empSpan(s.employee) : '',
            actionText(s),
            h('div', null, pill(s.enabled ? 'active' : 'paused'),
              s.catch_up ? h('div', { class: 'small muted', i18n: M['sched.catchUp.' + s.catch_up] ? 'sched.catchUp.' + s.catch_up : null, text: M['sched.catchUp.' + s.catch_up] ? null : s.catch_up }) : null),
            timeEl(s.last_run_at),
            h('div', { class: 'row-actions' }, pauseBtn, resumeBtn, runBtn, removeBtn),
          ],
        };
      });
      return table([
        { label: 'sched.name' }, { label: 'sched.when' }, { label: 'sched.employee' }, { label: 'sched.does' },
        { label: 'sched.state' }, { label: 'sched.last' }, { label: 'sched.actions', cls: 'cell-actions' }],
      rows, { class: 'rtable schedules-table' });
    }

    function runsTable(runs) {
      if (!runs.length) return emptyEl('sched.noRuns');
      return table([{ label: 'sched.name' }, { label: 'sched.due' }, { label: 'sched.state' }, { label: 'sched.summary' }],
        runs.slice(0, 30).map((r) => ({
          attrs: { 'data-status': r.status },
          cells: [h('strong', { text: r.schedule || '' }), timeEl(r.due_at), pill(r.status || 'done'), h('span', { text: r.summary || '' })],
        })), { class: 'rtable runs-table' });
    }

    // -- adding a schedule
    const text = (id, extra) => guard(h('input', Object.assign({ id, testid: id, type: 'text', class: 'input',
      autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' }, extra || {})));
    const addName = text('schedule-add-name', { class: 'input mono', placeholder: 'evening-report', maxlength: '64' });
    const addCron = text('schedule-add-cron', { class: 'input mono', placeholder: '0 9 * * *', 'aria-describedby': 'schedule-add-cron-text' });
    const cronPreview = h('span', { id: 'schedule-add-cron-text', class: 'small muted cron-preview', testid: 'schedule-add-cron-text' });
    const addKind = guard(h('select', { id: 'schedule-add-kind', class: 'input', testid: 'schedule-add-kind' },
      ['request', 'skill', 'report'].map((k) => h('option', { value: k, i18n: 'sched.kind.' + k }))));
    const valueLabel = h('span', { class: 'label' });
    const addValue = text('schedule-add-value');
    const skillList = h('datalist', { id: 'schedule-skill-list' },
      allSkills().map((sk) => h('option', { value: sk, label: skillName(sk) || null })));
    const periodList = h('datalist', { id: 'schedule-period-list' }, ['day', 'week'].map((p) => h('option', { value: p })));
    const addArgs = guard(h('textarea', { id: 'schedule-add-args', testid: 'schedule-add-args', class: 'input mono args-input', rows: '2',
      spellcheck: 'false', autocapitalize: 'off', value: '{}' }));
    const argsField = h('label', { class: 'field field-grow', hidden: true }, tx('sched.addArgs', null, 'label'), addArgs);
    const addEmployee = guard(h('select', { id: 'schedule-add-employee', class: 'input', testid: 'schedule-add-employee' },
      h('option', { value: '', i18n: 'sched.anyEmployee' }),
      state.employees.map((e) => h('option', { value: e.id, 'data-emp': e.id, text: empName(e.id) }))));
    const addCatchUp = guard(h('select', { id: 'schedule-add-catchup', class: 'input', testid: 'schedule-add-catchup' },
      ['once', 'skip'].map((c) => h('option', { value: c, i18n: 'sched.catchUp.' + c }))));
    const addSubmit = guard(h('button', { type: 'button', class: 'btn btn-primary', testid: 'schedule-add-submit', i18n: 'sched.addSubmit' }));
    const addControls = [addName, addCron, addKind, addValue, addArgs, addEmployee, addCatchUp, addSubmit];

    const setKind = () => {
      const kind = addKind.value;
      valueLabel.dataset.i18n = 'sched.value.' + kind;
      valueLabel.textContent = t(valueLabel.dataset.i18n);
      argsField.hidden = kind !== 'skill';
      delete addValue.dataset.i18nPh;
      addValue.classList.toggle('mono', kind !== 'request');
      if (kind === 'request') {
        addValue.removeAttribute('list');
        addValue.dataset.i18nPh = 'sched.ph.request';
        addValue.placeholder = t('sched.ph.request');
      } else {
        addValue.setAttribute('list', kind === 'skill' ? 'schedule-skill-list' : 'schedule-period-list');
        addValue.placeholder = kind === 'skill' ? 'analyst.product_ranking' : 'day';
      }
    };
    const showCron = () => {
      const cron = addCron.value.trim();
      cronPreview.replaceChildren(cron ? (cronText(cron) || tx('sched.cronUnknown')) : '');
    };
    addKind.addEventListener('change', setKind);
    addCron.addEventListener('input', showCron);
    for (const c of addControls) c.addEventListener('input', () => c.classList.remove('is-invalid'));
    setKind();

    const submitAdd = async () => {
      if (!isOwner()) return;
      here(formSlot);
      const bad = (key, input) => {
        say(result, 'error', tx(key));
        result.dataset.status = 'error';
        input.classList.add('is-invalid');
        input.focus();
      };
      const name = addName.value.trim();
      const cron = addCron.value.trim().replace(/\s+/g, ' ');
      const kind = addKind.value;
      const value = addValue.value.trim();
      if (!name) { bad('sched.needName', addName); return; }
      if (!cron) { bad('sched.needCron', addCron); return; }
      if (!value) { bad('sched.needValue', addValue); return; }
      const body = { name, cron, catch_up: addCatchUp.value };
      if (addEmployee.value) body.employee = addEmployee.value;
      if (kind === 'request') body.request = value;
      else if (kind === 'report') body.report = value;
      else {
        body.skill = value;
        const raw = addArgs.value.trim();
        let args = {};
        if (raw) { try { args = JSON.parse(raw); } catch { args = null; } }
        if (!args || typeof args !== 'object' || Array.isArray(args)) { bad('sched.badArgs', addArgs); return; }
        body.args = args;
      }
      addControls.forEach((c) => { c.disabled = true; });
      try {
        const r = await api('POST', '/schedules', body);
        await load();
        say(result, 'ok', tx('sched.added', { name: r.name || name, next: r.next_run_at ? fmtTime(r.next_run_at) : '—' }));
        result.dataset.status = 'ok';
        addName.value = '';
        addCron.value = '';
        addValue.value = '';
        addArgs.value = '{}';
        showCron();
      } catch (e) {
        say(result, 'error', e.message);
        result.dataset.status = 'error';
      } finally {
        addControls.forEach((c) => { c.disabled = false; guard(c); });
      }
    };
    addSubmit.addEventListener('click', submitAdd);
    for (const c of [addName, addCron, addValue]) {
      c.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); submitAdd(); } });
    }
    const addCard = h('section', { class: 'card sched-add', testid: 'schedule-add' },
      h('h2', { i18n: 'sched.add' }),
      h('p', { class: 'muted small', i18n: 'sched.addLead' }),
      h('div', { class: 'form-row' },
        h('label', { class: 'field' }, tx('sched.addName', null, 'label'), addName),
        h('label', { class: 'field' }, tx('sched.addCron', null, 'label'), addCron, cronPreview),
        h('label', { class: 'field' }, tx('sched.addKind', null, 'label'), addKind),
        h('label', { class: 'field field-grow' }, valueLabel, addValue),
        argsField,
        h('label', { class: 'field' }, tx('sched.addEmployee', null, 'label'), addEmployee),
        h('label', { class: 'field' }, tx('sched.addCatchUp', null, 'label'), addCatchUp),
        h('div', { class: 'field field-end' }, addSubmit)),
      skillList, periodList, formSlot);

    view.el.append(pageHead('sched.title', 'sched.lead', h('p', { class: 'muted small', i18n: 'common.timesIn', i18nArgs: { tz: shopTz() || 'UTC' } })),
      topSlot, list, addCard, webhooksSection(view), h('h2', { class: 'section-title', i18n: 'sched.runs' }), runsBox);
    load();
  }

  // ---- webhooks (on the schedules page)

  const HOOK_FORMATS = ['json', 'dingtalk', 'wecom'];
  const HOOK_EVENTS = ['report', 'approval', 'denial'];

  function webhooksSection(view) {
    const result = h('div', { class: 'msg', testid: 'webhook-result', role: 'status', 'aria-live': 'polite', hidden: true });
    const list = h('div', { class: 'webhooks', testid: 'webhooks-list' });
    const url = guard(h('input', { id: 'webhook-url', testid: 'webhook-url', type: 'url', class: 'input mono', inputmode: 'url',
      placeholder: 'https://oapi.dingtalk.com/robot/send?access_token=…', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' }));
    const format = guard(h('select', { id: 'webhook-format', class: 'input', testid: 'webhook-format' },
      HOOK_FORMATS.map((f) => h('option', { value: f, i18n: 'hook.format.' + f }))));
    const events = HOOK_EVENTS.map((ev) => guard(h('input', { type: 'checkbox', id: 'webhook-event-' + ev, testid: 'webhook-event-' + ev,
      value: ev, checked: true })));
    // Plain text, not a password field: it is a robot's secret, copied from DingTalk, which a
    // browser should not offer to save as the owner's password.
    const secret = guard(h('input', { id: 'webhook-secret', testid: 'webhook-secret', type: 'text', class: 'input mono',
      autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' }));
    const submit = guard(h('button', { type: 'button', class: 'btn btn-primary', testid: 'webhook-submit', i18n: 'hook.submit' }));
    const controls = [url, format, ...events, secret, submit];

    const load = () => fill(view, list, () => api('GET', '/webhooks'), (r) => hookTable(r.webhooks || []));

    const remove = async (hook, btn) => {
      btn.disabled = true;
      try {
        await api('DELETE', '/webhooks/' + encodeURIComponent(hook.id));
        await load();
        say(result, 'ok', tx('hook.removed', { id: hook.id }));
        result.dataset.status = 'ok';
      } catch (e) {
        say(result, 'error', e.message);
        result.dataset.status = 'error';
        load();
      } finally {
        btn.disabled = false;
        guard(btn);
      }
    };

    const add = async () => {
      if (!isOwner()) return;
      const address = url.value.trim();
      const chosen = events.filter((b) => b.checked).map((b) => b.value);
      if (!address) {
        say(result, 'error', tx('hook.needUrl'));
        result.dataset.status = 'error';
        url.classList.add('is-invalid');
        url.focus();
        return;
      }
      if (!chosen.length) {
        say(result, 'error', tx('hook.needEvent'));
        result.dataset.status = 'error';
        events[0].focus();
        return;
      }
      const body = { url: address, format: format.value, events: chosen };
      if (secret.value.trim()) body.secret = secret.value.trim();
      controls.forEach((c) => { c.disabled = true; });
      try {
        const r = await api('POST', '/webhooks', body);
        await load();
        say(result, 'ok', tx('hook.added', { id: r.id }));
        result.dataset.status = 'ok';
        url.value = '';
        secret.value = '';
      } catch (e) {
        say(result, 'error', e.message);
        result.dataset.status = 'error';
      } finally {
        controls.forEach((c) => { c.disabled = false; guard(c); });
      }
    };
    submit.addEventListener('click', add);
    url.addEventListener('input', () => url.classList.remove('is-invalid'));
    url.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } });

    function hookTable(hooks) {
      if (!hooks.length) return emptyEl('hook.none');
      const rows = hooks.map((hk) => {
        const btn = guard(twoStep(h('button', { type: 'button', class: 'btn btn-small', testid: 'webhook-remove-' + hk.id }),
          'sched.remove', 'sched.removeConfirm', () => remove(hk, btn)));
        return {
          attrs: { testid: 'webhook-' + hk.id, 'data-format': hk.format, 'data-enabled': String(hk.enabled !== false),
            class: hk.enabled === false ? 'is-off' : '' },
          cells: [
            h('span', null, h('code', { class: 'hook-url', text: hk.url || '' }), ' ', h('span', { class: 'muted small', text: '#' + hk.id })),
            M['hook.format.' + hk.format] ? tx('hook.format.' + hk.format) : h('span', { text: hk.format || '' }),
            h('span', { class: 'hook-events' }, (hk.events || []).map((ev) => h('span', { class: 'badge', 'data-event': ev,
              i18n: M['hook.event.' + ev] ? 'hook.event.' + ev : null, text: M['hook.event.' + ev] ? null : ev }))),
            tx(hk.signed ? 'hook.yes' : 'hook.no', null, hk.signed ? 'ok-text' : 'muted'),
            hk.delivered_seq != null ? tx('hook.entry', { seq: hk.delivered_seq }, 'mono small') : '—',
            h('div', { class: 'row-actions' }, btn),
          ],
        };
      });
      return table([{ label: 'hook.url' }, { label: 'hook.format' }, { label: 'hook.events' }, { label: 'hook.signed' },
        { label: 'hook.delivered' }, { label: 'hook.actions', cls: 'cell-actions' }], rows, { class: 'rtable webhooks-table' });
    }

    // A form, never submitted (the page's policy forbids form actions anyway).
    const form = h('form', { class: 'form-row', novalidate: true, autocomplete: 'off' },
      h('label', { class: 'field field-grow field-wide' }, tx('hook.url', null, 'label'), url),
      h('label', { class: 'field' }, tx('hook.format', null, 'label'), format),
      h('fieldset', { class: 'field checks' }, h('legend', { class: 'label', i18n: 'hook.events' }),
        h('div', { class: 'check-row' }, events.map((box, i) => h('label', { class: 'check', for: box.id }, box,
          tx('hook.event.' + HOOK_EVENTS[i]))))),
      h('label', { class: 'field' }, tx('hook.secret', null, 'label'), secret),
      h('div', { class: 'field field-end' }, submit));
    form.addEventListener('submit', (e) => { e.preventDefault(); add(); });

    load();
    return h('section', { class: 'card hooks', testid: 'webhooks' },
      h('h2', { i18n: 'hook.title' }),
      h('p', { class: 'muted small', i18n: 'hook.lead' }),
      list,
      h('p', { class: 'muted small', i18n: 'hook.queryHidden' }),
      result,
      h('h3', { class: 'small-title', i18n: 'hook.add' }),
      form);
  }

  function actionText(s) {
    if (s.action === 'request') return h('span', { class: 'quote', text: '“' + (s.request || '') + '”' });
    if (s.action === 'skill') {
      return h('span', null, codeEl(s.skill || ''), skillName(s.skill) ? h('span', { class: 'muted small', text: ' ' + skillName(s.skill) }) : null,
        s.args && Object.keys(s.args).length ? h('code', { class: 'small args-inline', text: compactJson(s.args) }) : null);
    }
    if (s.action === 'report') return tx(M['sched.report.' + s.period] ? 'sched.report.' + s.period : 'nav.reports');
    return h('span', { text: s.action || '' });
  }

  // Reads the common cron shapes in words; anything else shows as written.
  function cronText(cron) {
    const f = String(cron || '').trim().split(/\s+/);
    if (f.length !== 5) return null;
    const [min, hour, dom, mon, dow] = f;
    const num = (x) => /^\d+$/.test(x);
    const time = num(min) && num(hour) ? hour.padStart(2, '0') + ':' + min.padStart(2, '0') : null;
    if (time && dom === '*' && mon === '*' && dow === '*') return tx('sched.daily', { time }, 'cron-text');
    if (time && dom === '*' && mon === '*' && /^[0-7]$/.test(dow)) {
      const day = weekdayName(Number(dow) % 7);
      return tx('sched.weekly', { day, time }, 'cron-text');
    }
    if (num(min) && hour === '*' && dom === '*' && mon === '*' && dow === '*') return tx('sched.hourly', { m: min.padStart(2, '0') }, 'cron-text');
    return null;
  }

  function weekdayName(d) {
    // 2023-01-01 was a Sunday.
    const date = new Date(Date.UTC(2023, 0, 1 + d, 12));
    return new Intl.DateTimeFormat(locale(), { weekday: 'long', timeZone: 'UTC' }).format(date);
  }

  // ---- reports

  function reportsPage(view) {
    const result = h('div', { class: 'msg', testid: 'report-result', role: 'status', 'aria-live': 'polite', hidden: true });
    const day = guard(h('button', { type: 'button', class: 'btn btn-primary', testid: 'report-generate-day', i18n: 'rep.day' }));
    const week = guard(h('button', { type: 'button', class: 'btn', testid: 'report-generate-week', i18n: 'rep.week' }));
    const list = h('ul', { class: 'report-list', testid: 'reports-list' });
    const viewerTitle = h('h2', { class: 'viewer-title' });
    const frame = h('iframe', { class: 'report-frame', testid: 'report-frame', sandbox: '', referrerpolicy: 'no-referrer',
      title: t('rep.title'), hidden: true });
    const md = h('pre', { class: 'markdown', hidden: true });
    const hint = h('p', { class: 'muted', i18n: 'rep.pick' });
    let reports = [];
    let current = null;

    const open = async (rep) => {
      current = rep.id;
      for (const li of list.querySelectorAll('[data-id]')) li.classList.toggle('is-current', li.dataset.id === String(rep.id));
      viewerTitle.textContent = rep.title || t('common.unnamed');
      hint.hidden = true;
      try {
        const text = await assetText(rep.id);
        if (!view.alive || current !== rep.id) return;
        showDoc(rep.media_type, text);
      } catch (e) {
        if (!view.alive) return;
        hint.hidden = false;
        hint.replaceChildren(errorEl(e));
      }
    };
    const showDoc = (mediaType, text) => {
      if (/html/.test(mediaType || '')) {
        md.hidden = true;
        frame.src = htmlBlobUrl(text, view.blobs);
        frame.hidden = false;
      } else {
        frame.hidden = true;
        frame.removeAttribute('src');
        md.textContent = text;
        md.hidden = false;
      }
    };
    const load = () => fill(view, list, () => api('GET', '/reports'), (r) => {
      reports = r.reports || [];
      if (!reports.length) return [h('li', { class: 'empty' }, tx('rep.none'))];
      // A report is written as HTML and as Markdown, one after the other: one entry with a
      // button per format. The same report written twice stays two entries.
      const groups = [];
      for (const rep of reports) {
        const g = groups[groups.length - 1];
        const same = g && g.title === rep.title && g.created_at === rep.created_at
          && !g.items.some((x) => x.media_type === rep.media_type);
        if (same) g.items.push(rep);
        else groups.push({ title: rep.title, created_at: rep.created_at, items: [rep] });
      }
      return groups.map((g) => {
        const main = g.items.find((x) => /html/.test(x.media_type || '')) || g.items[0];
        return h('li', { class: 'report-group' },
          h('button', { type: 'button', class: 'report-item', onclick: () => open(main) },
            h('span', { class: 'report-title', text: g.title || t('common.unnamed') }),
            h('span', { class: 'report-meta' }, timeEl(g.created_at))),
          h('ul', { class: 'report-formats' }, g.items.map((rep) => h('li', {
            testid: 'report-' + rep.id, 'data-id': rep.id, class: rep.id === current ? 'is-current' : null },
          h('button', { type: 'button', class: 'chip chip-small', onclick: () => open(rep) },
            /html/.test(rep.media_type || '') ? 'HTML' : 'Markdown')))));
      });
    });
    const generate = async (period, btn) => {
      day.disabled = true; week.disabled = true;
      say(result, 'info', h('span', { class: 'spinner', 'aria-hidden': 'true' }), tx('rep.writing'));
      try {
        const r = await api('POST', '/reports', { period });
        say(result, 'ok', tx('rep.wrote', { title: r.title || '' }));
        result.dataset.status = 'ok';
        await load();
        // The answer names the files it wrote; older servers may send the HTML itself.
        if (typeof r.html === 'string' && /^\s*</.test(r.html)) {
          viewerTitle.textContent = r.title || '';
          hint.hidden = true;
          showDoc('text/html', r.html);
        } else {
          const rep = reports.find((x) => x.path === r.html) || reports.find((x) => /html/.test(x.media_type || '') && x.title === r.title);
          if (rep) await open(rep);
        }
      } catch (e) {
        say(result, 'error', e.message);
        result.dataset.status = 'error';
      } finally {
        day.disabled = false; week.disabled = false;
        guard(day); guard(week);
        void btn;
      }
    };
    day.addEventListener('click', () => generate('day', day));
    week.addEventListener('click', () => generate('week', week));

    view.el.append(pageHead('rep.title', 'rep.lead'),
      h('div', { class: 'actions-row' }, day, week),
      result,
      h('div', { class: 'reports-layout' },
        h('section', { class: 'card report-side' }, h('h2', { class: 'small-title', i18n: 'rep.list' }), list),
        h('section', { class: 'card report-viewer' }, viewerTitle, hint, frame, md)));
    load().then(() => {
      if (!view.alive || current) return;
      const first = reports.find((x) => /html/.test(x.media_type || '')) || reports[0];
      if (first) open(first);
    });
  }

  // ---- assets

  function assetsPage(view) {
    const grid = h('ul', { class: 'asset-grid', testid: 'assets-list' });
    const dialog = h('dialog', { class: 'viewer-dialog' });
    let kind = '';
    let assets = [];
    const filters = h('div', { class: 'filters', role: 'group' });

    const renderFilters = () => {
      const kinds = [...new Set(assets.map((a) => a.kind))];
      filters.replaceChildren(...['', ...kinds].map((k) => h('button', {
        type: 'button', class: 'chip' + (k === kind ? ' is-on' : ''), 'aria-pressed': String(k === kind),
        i18n: k ? (M['as.kind.' + k] ? 'as.kind.' + k : null) : 'common.all',
        text: k && !M['as.kind.' + k] ? k : null,
        onclick: () => { kind = k; renderFilters(); renderGrid(); },
      })));
    };
    const renderGrid = () => {
      const shown = assets.filter((a) => !kind || a.kind === kind);
      if (!shown.length) { grid.replaceChildren(h('li', { class: 'empty' }, tx('as.none'))); return; }
      grid.replaceChildren(...shown.map(assetCard));
    };
    const queue = [];
    let active = 0;
    const pump = () => {
      while (active < 4 && queue.length) {
        const job = queue.shift();
        active += 1;
        job().finally(() => { active -= 1; pump(); });
      }
    };
    const thumbCache = new Map();
    const assetCard = (a) => {
      const isImage = /^image\//.test(a.media_type || '');
      const thumb = h('div', { class: 'thumb' + (isImage ? '' : ' thumb-doc') });
      if (isImage) {
        const put = (url) => thumb.replaceChildren(h('img', { src: url, alt: a.title || basename(a.path), loading: 'lazy' }));
        if (thumbCache.has(a.id)) put(thumbCache.get(a.id));
        else {
          thumb.append(h('span', { class: 'spinner', 'aria-hidden': 'true' }));
          queue.push(() => assetUrl(a.id, a.media_type, view.blobs).then((url) => { thumbCache.set(a.id, url); if (view.alive) put(url); })
            .catch(() => thumb.replaceChildren(tx('as.noPreview', null, 'muted small'))));
          pump();
        }
      } else {
        thumb.append(h('span', { class: 'doc-icon', 'aria-hidden': 'true', text: /html/.test(a.media_type || '') ? '</>' : '¶' }));
      }
      return h('li', { class: 'asset', testid: 'asset-' + a.id, 'data-kind': a.kind },
        h('button', { type: 'button', class: 'asset-open', onclick: () => openAsset(a) },
          thumb,
          h('span', { class: 'asset-title', text: a.title || basename(a.path) }),
          h('span', { class: 'asset-meta' },
            h('span', { class: 'badge', i18n: M['as.kind.' + a.kind] ? 'as.kind.' + a.kind : null, text: M['as.kind.' + a.kind] ? null : a.kind }),
            ' ', h('span', { class: 'muted small', text: extLabel(a) }), ' ', timeEl(a.created_at, 'small muted'))));
    };
    const openAsset = async (a) => {
      const body = h('div', { class: 'viewer-body' }, loadingEl());
      const close = h('button', { type: 'button', class: 'btn btn-small', i18n: 'common.close', onclick: () => dialog.close() });
      dialog.replaceChildren(h('header', { class: 'viewer-head' }, h('h2', { text: a.title || basename(a.path) }), close),
        h('p', { class: 'muted small mono', text: a.path }), body);
      if (!dialog.open) dialog.showModal();
      try {
        if (/^image\//.test(a.media_type || '')) {
          const url = thumbCache.get(a.id) || await assetUrl(a.id, a.media_type, view.blobs);
          body.replaceChildren(h('img', { class: 'viewer-img', src: url, alt: a.title || '' }));
        } else if (/html/.test(a.media_type || '')) {
          const text = await assetText(a.id);
          body.replaceChildren(h('iframe', { class: 'report-frame', sandbox: '', referrerpolicy: 'no-referrer', title: a.title || '',
            src: htmlBlobUrl(text, view.blobs) }));
        } else {
          body.replaceChildren(h('pre', { class: 'markdown', text: await assetText(a.id) }));
        }
      } catch (e) {
        body.replaceChildren(errorEl(e));
      }
    };
    dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });

    view.el.append(pageHead('as.title', 'as.lead'), filters, grid, dialog);
    fill(view, grid, () => api('GET', '/assets'), (r) => {
      assets = r.assets || [];
      renderFilters();
      const shown = assets.filter((a) => !kind || a.kind === kind);
      return shown.length ? shown.map(assetCard) : [h('li', { class: 'empty' }, tx('as.none'))];
    });
  }

  function extLabel(a) {
    const ext = (String(a.path || '').split('.').pop() || '').toUpperCase();
    return ext === 'MD' ? 'Markdown' : ext;
  }

  const PAGES = { plans: plansPage, log: logPage, approvals: approvalsPage, perms: permsPage, schedules: schedulesPage,
    reports: reportsPage, assets: assetsPage };

  // ---------------------------------------------------------------- start

  function toggleLang() {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    try { localStorage.setItem(LANG_KEY, state.lang); } catch { /* ignore */ }
    renderChrome();
    applyI18n(document);
    if (chat.root) applyI18n(chat.root);
    for (const td of document.querySelectorAll('[data-i18n-label]')) td.dataset.label = t(td.dataset.i18nLabel);
    // Pages with text written by the server fetch it again in the new language.
    const name = currentRoute();
    if (state.me && PAGES[name]) showPage(name);
  }

  function start() {
    $('lang-toggle').addEventListener('click', toggleLang);
    $('logout').addEventListener('click', () => signOut(''));
    window.addEventListener('hashchange', route);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) refreshGlobal(); });
    setInterval(() => { if (!document.hidden) refreshGlobal(); }, 60000);
    renderChrome();
    applyI18n(document);
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
